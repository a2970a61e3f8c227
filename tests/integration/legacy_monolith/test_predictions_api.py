"""/api/v1/predictions: scores with named explanations, and the audit record of each."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from contracts.features import FEATURE_NAMES
from contracts.predictions import Decision
from datagen import generate
from legacy_monolith.schema import PredictionRow
from riskmodel.scoring import TOP_K_ATTRIBUTIONS, decide
from tests.integration.legacy_monolith._support import assert_problem, post_json, tx_json

PATH = "/api/v1/predictions"
TXS = generate(20, seed=31)


def audit_rows(app: Flask) -> int:
    with app.extensions["monolith"].db.session() as session:
        return int(session.scalar(select(func.count()).select_from(PredictionRow)) or 0)


def check_prediction(prediction: dict, transaction_id: str) -> None:
    assert prediction["transaction_id"] == transaction_id
    assert prediction["model_version"] == "1"
    assert 0.0 <= prediction["score"] <= 1.0
    assert prediction["decision"] == decide(prediction["score"]).value
    explanation = prediction["explanation"]
    assert len(explanation) == TOP_K_ATTRIBUTIONS == 5
    assert {a["feature"] for a in explanation} <= set(FEATURE_NAMES)
    assert len({a["feature"] for a in explanation}) == 5
    magnitudes = [abs(a["attribution"]) for a in explanation]
    assert magnitudes == sorted(magnitudes, reverse=True)
    assert any(m > 0 for m in magnitudes)


def test_scoring_before_any_model_is_a_409_problem(app: Flask, client: FlaskClient) -> None:
    problem = assert_problem(post_json(client, PATH, tx_json(TXS[0])), 409, "no-model")
    assert "training-runs" in problem["detail"]
    assert audit_rows(app) == 0


def test_one_prediction_with_its_explanation(
    serving_app: Flask, serving_client: FlaskClient
) -> None:
    response = post_json(serving_client, PATH, tx_json(TXS[0]))

    assert response.status_code == 200
    prediction = response.get_json()
    check_prediction(prediction, TXS[0].transaction_id)
    assert audit_rows(serving_app) == 1


def test_the_audit_record_equals_the_answer(serving_client: FlaskClient) -> None:
    answer = post_json(serving_client, PATH, tx_json(TXS[1])).get_json()

    response = serving_client.get(f"{PATH}/{answer['prediction_id']}")

    assert response.status_code == 200
    record = response.get_json()
    transaction = record.pop("transaction")
    assert record == answer
    assert transaction == tx_json(TXS[1])


def test_a_batch_is_scored_in_order_and_every_decision_audited(
    serving_app: Flask, serving_client: FlaskClient
) -> None:
    body = {"transactions": [tx_json(t) for t in TXS]}

    response = post_json(serving_client, PATH, body)

    assert response.status_code == 200
    predictions = response.get_json()["predictions"]
    assert len(predictions) == len(TXS)
    for prediction, tx in zip(predictions, TXS, strict=True):
        check_prediction(prediction, tx.transaction_id)
    assert len({p["prediction_id"] for p in predictions}) == len(TXS)
    assert audit_rows(serving_app) == len(TXS)
    for prediction in predictions[:3]:
        record = serving_client.get(f"{PATH}/{prediction['prediction_id']}").get_json()
        assert record["score"] == prediction["score"]
        assert record["explanation"] == prediction["explanation"]


def test_the_model_ranks_fraud_above_legitimate_traffic(serving_client: FlaskClient) -> None:
    traffic = generate(1000, seed=32)
    body = {"transactions": [tx_json(t) for t in traffic]}
    predictions = post_json(serving_client, PATH, body).get_json()["predictions"]
    fraud = [p["score"] for p, t in zip(predictions, traffic, strict=True) if t.is_fraud]
    legit = [p["score"] for p, t in zip(predictions, traffic, strict=True) if not t.is_fraud]
    assert fraud and sum(fraud) / len(fraud) > 3 * sum(legit) / len(legit)
    decisions = {p["decision"] for p in predictions}
    assert Decision.APPROVE.value in decisions and len(decisions) >= 2


def test_scoring_does_not_need_the_label_or_ingestion(serving_client: FlaskClient) -> None:
    body = tx_json(TXS[2])
    body.pop("is_fraud")
    assert post_json(serving_client, PATH, body).status_code == 200


def test_the_same_transaction_scores_the_same_each_time(serving_client: FlaskClient) -> None:
    one = post_json(serving_client, PATH, tx_json(TXS[3])).get_json()
    two = post_json(serving_client, PATH, tx_json(TXS[3])).get_json()
    assert (one["score"], one["explanation"]) == (two["score"], two["explanation"])
    assert one["prediction_id"] != two["prediction_id"]


def test_invalid_scoring_requests_are_4xx_and_audit_nothing(
    serving_app: Flask, serving_client: FlaskClient
) -> None:
    items = [tx_json(t) for t in TXS[:4]]
    items[3]["currency"] = "ZZZ"
    problem = assert_problem(post_json(serving_client, PATH, {"transactions": items}), 422)
    assert [e["field"] for e in problem["errors"]] == ["transactions[3].currency"]
    assert_problem(serving_client.post(PATH, data=b"[", content_type="application/json"), 400)
    assert_problem(serving_client.post(PATH, data=b"{}", content_type="text/plain"), 415)
    assert_problem(post_json(serving_client, PATH, {"transactions": []}), 422)
    assert audit_rows(serving_app) == 0


def test_an_unknown_prediction_is_a_404(serving_client: FlaskClient) -> None:
    problem = assert_problem(
        serving_client.get(f"{PATH}/00000000-0000-0000-0000-000000000000"), 404, "not-found"
    )
    assert "00000000-0000-0000-0000-000000000000" in problem["detail"]
    assert_problem(serving_client.get(f"{PATH}/a%00b"), 404, "not-found")
    assert_problem(serving_client.delete(f"{PATH}/whatever"), 405)
