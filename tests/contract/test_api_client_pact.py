"""Consumer side of the HTTP pact: the typed client against Pact's mock provider.

One test per interaction: it declares what the client sends and what it needs back
(matchers and provider states, never literal answers), then drives the real
``contracts.client.ApiClient`` against the mock server and checks what the client returns.
The interactions are merged into a session pact file; the last test compares it with the
committed ``contracts/pacts/api-client-public-api-v1.json`` (``make contracts`` refreshes
it), so the committed pact is always what these tests record.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pact import Pact, match

from contracts import pacts
from contracts.client import (
    ApiClient,
    Conflict,
    NoModel,
    NotEnoughData,
    NotFound,
    ValidationFailed,
)
from contracts.registry import RunStatus, TrainingRunRequest
from contracts.transactions import Transaction
from tests.contract import _matchers as m
from tests.contract.conftest import PASSED

UPDATE_ENV = "CONTRACTS_UPDATE_PACTS"
_PREFIX = "test_interaction_"


def _tx(transaction_id: str, **overrides: Any) -> Transaction:
    fields: dict[str, Any] = {
        "transaction_id": transaction_id,
        "account_id": "acct-pact-01",
        "amount": 42.5,
        "currency": "EUR",
        "merchant_category": "5411",
        "country": "DE",
        "channel": "pos",
        "timestamp": "2026-03-02T14:05:00+01:00",
        "is_fraud": False,
    }
    fields.update(overrides)
    return Transaction.model_validate_json(json.dumps(fields))


@pytest.fixture(scope="module")
def recorded_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pacts")


@pytest.fixture
def pact(recorded_dir: Path) -> Iterator[Pact]:
    """A fresh V4 pact for one interaction, merged into the module's pact file after."""
    new = Pact(pacts.API_CONSUMER, pacts.API_PROVIDER).with_specification("V4")
    yield new
    new.write_file(recorded_dir)


def _serve(pact: Pact) -> Any:
    return pact.serve(addr="127.0.0.1", verbose=False)


# -- ingestion ------------------------------------------------------------------------


def test_interaction_ingest_one(pact: Pact) -> None:
    tx = _tx("pact-tx-ingest-1")
    (
        pact.upon_receiving("ingest one transaction")
        .with_request("POST", "/api/v1/transactions")
        .with_body(tx.model_dump(mode="json"), content_type="application/json")
        .will_respond_with(202)
        .with_body(
            {
                "accepted": match.int(1),
                "duplicates": match.int(0),
                "results": match.each_like(
                    {
                        "transaction_id": "pact-tx-ingest-1",
                        "status": m.one_of("accepted", "accepted", "duplicate"),
                        "ingested_at": m.timestamp(),
                    },
                    min=1,
                    max=1,
                ),
            },
            content_type="application/json",
        )
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        receipt = client.ingest(tx)
    assert [r.transaction_id for r in receipt.results] == ["pact-tx-ingest-1"]
    assert receipt.results[0].status in ("accepted", "duplicate")


def test_interaction_ingest_batch(pact: Pact) -> None:
    batch = [_tx("pact-tx-batch-1"), _tx("pact-tx-batch-2", amount=7.99, channel="web")]
    (
        pact.upon_receiving("ingest a batch of transactions")
        .with_request("POST", "/api/v1/transactions")
        .with_body(
            {"transactions": [t.model_dump(mode="json") for t in batch]},
            content_type="application/json",
        )
        .will_respond_with(202)
        .with_body(
            {
                "accepted": match.int(2),
                "duplicates": match.int(0),
                "results": [
                    {
                        "transaction_id": t.transaction_id,
                        "status": m.one_of("accepted", "accepted", "duplicate"),
                        "ingested_at": m.timestamp(),
                    }
                    for t in batch
                ],
            },
            content_type="application/json",
        )
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        receipt = client.ingest(batch)
    assert [r.transaction_id for r in receipt.results] == ["pact-tx-batch-1", "pact-tx-batch-2"]


def test_interaction_ingest_invalid(pact: Pact) -> None:
    body = _tx("pact-tx-invalid").model_dump(mode="json")
    body["amount"] = -5
    (
        pact.upon_receiving("ingest a transaction with a negative amount")
        .with_request("POST", "/api/v1/transactions")
        .with_body(body, content_type="application/json")
        .will_respond_with(422)
        .with_header("Content-Type", "application/problem+json")
        .with_body(m.problem("validation", 422, with_errors=True))
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        # The client validates its own inputs, so send the raw body the way a foreign
        # consumer would; the error must still come back typed.
        with pytest.raises(ValidationFailed) as caught:
            client.send(_raw_ingest(body))
    assert caught.value.errors and caught.value.status == 422


def _raw_ingest(body: dict[str, Any]) -> Any:
    from contracts.client import operations as ops

    call = ops.ingest(_tx("placeholder"))
    return ops.Call(call.method, call.path, call.decode, call.success, body, has_body=True)


def test_interaction_ingest_conflict(pact: Pact) -> None:
    stored = _tx("pact-tx-conflict", amount=10.0)
    changed = _tx("pact-tx-conflict", amount=99.99)
    (
        pact.upon_receiving("ingest a transaction id that is stored with another body")
        .given(pacts.TRANSACTION_STORED, transaction=stored.model_dump(mode="json"))
        .with_request("POST", "/api/v1/transactions")
        .with_body(changed.model_dump(mode="json"), content_type="application/json")
        .will_respond_with(409)
        .with_header("Content-Type", "application/problem+json")
        .with_body(m.problem("conflict", 409))
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        with pytest.raises(Conflict) as caught:
            client.ingest(changed)
    assert caught.value.slug == "conflict"


# -- predictions ----------------------------------------------------------------------


def test_interaction_score_one(pact: Pact) -> None:
    tx = _tx("pact-tx-score-1", is_fraud=None)
    (
        pact.upon_receiving("score one transaction")
        .given(pacts.MODEL_SERVING)
        .with_request("POST", "/api/v1/predictions")
        .with_body(tx.model_dump(mode="json"), content_type="application/json")
        .will_respond_with(200)
        .with_body(m.prediction("pact-tx-score-1"), content_type="application/json")
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        prediction = client.score(tx)
    assert prediction.transaction_id == "pact-tx-score-1"
    assert 0.0 <= prediction.score <= 1.0 and prediction.explanation


def test_interaction_score_batch(pact: Pact) -> None:
    batch = [_tx("pact-tx-score-b1"), _tx("pact-tx-score-b2", country="NG", channel="web")]
    (
        pact.upon_receiving("score a batch of transactions")
        .given(pacts.MODEL_SERVING)
        .with_request("POST", "/api/v1/predictions")
        .with_body(
            {"transactions": [t.model_dump(mode="json") for t in batch]},
            content_type="application/json",
        )
        .will_respond_with(200)
        .with_body(
            {"predictions": [m.prediction(t.transaction_id) for t in batch]},
            content_type="application/json",
        )
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        result = client.score_batch(batch)
    assert [p.transaction_id for p in result.predictions] == [
        "pact-tx-score-b1",
        "pact-tx-score-b2",
    ]


def test_interaction_score_without_model(pact: Pact) -> None:
    tx = _tx("pact-tx-no-model")
    (
        pact.upon_receiving("score a transaction before any model is trained")
        .given(pacts.NO_MODEL)
        .with_request("POST", "/api/v1/predictions")
        .with_body(tx.model_dump(mode="json"), content_type="application/json")
        .will_respond_with(409)
        .with_header("Content-Type", "application/problem+json")
        .with_body(m.problem("no-model", 409))
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        with pytest.raises(NoModel):
            client.score(tx)


def test_interaction_get_prediction(pact: Pact) -> None:
    example_id = "5f0c6b1e-2b7a-4c8e-9a53-0d3f1f9d2c11"
    tx = _tx("pact-tx-audited", is_fraud=None)
    record = m.prediction(
        "pact-tx-audited", prediction_id=m.from_state(example_id, "${prediction_id}")
    )
    record["transaction"] = {
        **{k: match.like(v) for k, v in tx.model_dump(mode="json").items() if v is not None},
        "transaction_id": "pact-tx-audited",
    }
    (
        pact.upon_receiving("read the audit record of a prediction")
        .given(pacts.PREDICTION_EXISTS, transaction=tx.model_dump(mode="json"))
        .with_request(
            "GET",
            m.from_state(
                f"/api/v1/predictions/{example_id}", "/api/v1/predictions/${prediction_id}"
            ),
        )
        .will_respond_with(200)
        .with_body(record, content_type="application/json")
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        found = client.get_prediction(example_id)
    assert found.prediction_id == example_id
    assert found.transaction.transaction_id == "pact-tx-audited"


def test_interaction_get_unknown_prediction(pact: Pact) -> None:
    (
        pact.upon_receiving("read a prediction that does not exist")
        .with_request("GET", "/api/v1/predictions/pact-no-such-prediction")
        .will_respond_with(404)
        .with_header("Content-Type", "application/problem+json")
        .with_body(m.problem("not-found", 404))
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        with pytest.raises(NotFound):
            client.get_prediction("pact-no-such-prediction")


# -- models ---------------------------------------------------------------------------


def test_interaction_start_training_run(pact: Pact) -> None:
    request = TrainingRunRequest(epochs=2, promote=False)
    (
        pact.upon_receiving("start a training run that does not promote")
        .given(pacts.ENOUGH_DATA)
        .with_request("POST", "/api/v1/models/training-runs")
        .with_body({"epochs": 2, "promote": False}, content_type="application/json")
        .will_respond_with(202)
        .with_header(
            "Location",
            match.regex(
                "/api/v1/models/training-runs/7f1d3c52-1111-4a55-9c1e-2a9f6b3d0a77",
                regex=r"^(https?://[^/]+)?/api/v1/models/training-runs/[^/]+$",
            ),
        )
        .with_body(
            m.training_run(
                match.str("7f1d3c52-1111-4a55-9c1e-2a9f6b3d0a77"), "queued", promote=False
            ),
            content_type="application/json",
        )
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        run = client.start_training_run(request)
    assert run.status is RunStatus.QUEUED and run.params.promote is False


def test_interaction_start_training_run_without_data(pact: Pact) -> None:
    (
        pact.upon_receiving("start a training run without enough labelled data")
        .given(pacts.NOT_ENOUGH_DATA)
        .with_request("POST", "/api/v1/models/training-runs")
        .with_body({}, content_type="application/json")
        .will_respond_with(409)
        .with_header("Content-Type", "application/problem+json")
        .with_body(m.problem("not-enough-data", 409))
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        with pytest.raises(NotEnoughData):
            client.start_training_run()


def test_interaction_start_training_run_invalid(pact: Pact) -> None:
    (
        pact.upon_receiving("start a training run with invalid options")
        .with_request("POST", "/api/v1/models/training-runs")
        .with_body({"epochs": 0}, content_type="application/json")
        .will_respond_with(422)
        .with_header("Content-Type", "application/problem+json")
        .with_body(m.problem("validation", 422, with_errors=True))
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        # TrainingRunRequest refuses epochs=0 itself; send what a careless consumer would.
        with pytest.raises(ValidationFailed) as caught:
            client.send(_raw_training({"epochs": 0}))
    assert caught.value.errors


def _raw_training(body: dict[str, Any]) -> Any:
    from contracts.client import operations as ops

    call = ops.start_training_run(None)
    return ops.Call(call.method, call.path, call.decode, call.success, body, has_body=True)


def test_interaction_get_training_run(pact: Pact) -> None:
    example = "7f1d3c52-1111-4a55-9c1e-2a9f6b3d0a77"
    (
        pact.upon_receiving("read a training run")
        .given(pacts.TRAINING_RUN_EXISTS)
        .with_request(
            "GET",
            m.from_state(
                f"/api/v1/models/training-runs/{example}",
                "/api/v1/models/training-runs/${run_id}",
            ),
        )
        .will_respond_with(200)
        .with_body(
            m.training_run(
                m.from_state(example, "${run_id}"),
                m.one_of("succeeded", *(s.value for s in RunStatus)),
                promote=False,
            ),
            content_type="application/json",
        )
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        run = client.get_training_run(example)
    assert run.run_id == example


def test_interaction_get_unknown_training_run(pact: Pact) -> None:
    (
        pact.upon_receiving("read a training run that does not exist")
        .with_request("GET", "/api/v1/models/training-runs/pact-no-such-run")
        .will_respond_with(404)
        .with_header("Content-Type", "application/problem+json")
        .with_body(m.problem("not-found", 404))
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        with pytest.raises(NotFound):
            client.get_training_run("pact-no-such-run")


def test_interaction_list_models(pact: Pact) -> None:
    (
        pact.upon_receiving("list the model versions")
        .given(pacts.MODEL_SERVING)
        .with_request("GET", "/api/v1/models")
        .will_respond_with(200)
        .with_body(
            {
                "current_version": match.str("1"),
                "models": match.each_like(m.model_version(), min=1),
            },
            content_type="application/json",
        )
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        listing = client.list_models()
    assert listing.current_version == "1" and listing.models


def test_interaction_current_model(pact: Pact) -> None:
    (
        pact.upon_receiving("read the serving model")
        .given(pacts.MODEL_SERVING)
        .with_request("GET", "/api/v1/models/current")
        .will_respond_with(200)
        .with_body(m.model_version(), content_type="application/json")
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        current = client.current_model()
    assert current.is_current


def test_interaction_current_model_none(pact: Pact) -> None:
    (
        pact.upon_receiving("read the serving model before any is trained")
        .given(pacts.NO_MODEL)
        .with_request("GET", "/api/v1/models/current")
        .will_respond_with(404)
        .with_header("Content-Type", "application/problem+json")
        .with_body(m.problem("not-found", 404))
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        with pytest.raises(NotFound):
            client.current_model()


def test_interaction_promote(pact: Pact) -> None:
    (
        pact.upon_receiving("promote the serving model version again")
        .given(pacts.MODEL_SERVING)
        .with_request(
            "POST",
            m.from_state("/api/v1/models/1/promote", "/api/v1/models/${model_version}/promote"),
        )
        .will_respond_with(200)
        .with_body(
            m.model_version(version=m.from_state("1", "${model_version}")),
            content_type="application/json",
        )
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        promoted = client.promote_model("1")
    assert promoted.version == "1" and promoted.is_current


def test_interaction_promote_unknown(pact: Pact) -> None:
    (
        pact.upon_receiving("promote a model version that does not exist")
        .with_request("POST", "/api/v1/models/999999/promote")
        .will_respond_with(404)
        .with_header("Content-Type", "application/problem+json")
        .with_body(m.problem("not-found", 404))
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        with pytest.raises(NotFound):
            client.promote_model("999999")


# -- monitoring and operations --------------------------------------------------------


def test_interaction_drift_report(pact: Pact) -> None:
    (
        pact.upon_receiving("read the drift report over a window")
        .given(pacts.PREDICTIONS_MADE, count=60)
        .with_request("GET", "/api/v1/monitoring/drift")
        .with_query_parameter("window", "200")
        .will_respond_with(200)
        .with_body(
            {
                "status": m.one_of("ok", "ok", "drift", "insufficient_data", "no_reference"),
                "model_version": match.str("1"),
                "reference_rows": match.int(2000),
                "window": {
                    "requested": 200,
                    "size": match.int(60),
                    "start": m.timestamp(),
                    "end": m.timestamp(),
                },
                "thresholds": {
                    "psi": match.number(0.2),
                    "ks": match.number(0.2),
                    "min_samples": match.int(50),
                },
                "drifted_features": match.type([], min=0),
                "features": match.type([], min=0),
                "computed_at": m.timestamp(),
            },
            content_type="application/json",
        )
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        report = client.drift_report(200)
    assert report.window.requested == 200


def test_interaction_drift_report_bad_window(pact: Pact) -> None:
    (
        pact.upon_receiving("read the drift report with a window out of range")
        .with_request("GET", "/api/v1/monitoring/drift")
        .with_query_parameter("window", "5")
        .will_respond_with(422)
        .with_header("Content-Type", "application/problem+json")
        .with_body(m.problem("validation", 422, with_errors=True, field="window"))
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        with pytest.raises(ValidationFailed) as caught:
            client.drift_report(5)
    assert caught.value.errors[0].field == "window"


def test_interaction_health(pact: Pact) -> None:
    (
        pact.upon_receiving("check liveness")
        .with_request("GET", "/healthz")
        .will_respond_with(200)
        .with_body(
            {"status": "ok", "service": match.str("legacy-monolith")},
            content_type="application/json",
        )
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        assert client.health().status == "ok"


def test_interaction_readiness(pact: Pact) -> None:
    (
        pact.upon_receiving("check readiness")
        .with_request("GET", "/readyz")
        .will_respond_with(200)
        .with_body(
            {
                "status": "ready",
                "service": match.str("legacy-monolith"),
                "checks": match.each_value_matches({"database": "ok"}, rules=match.str("ok")),
            },
            content_type="application/json",
        )
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        assert client.readiness().status == "ready"


def test_interaction_metrics(pact: Pact) -> None:
    (
        pact.upon_receiving("scrape the Prometheus metrics")
        .with_request("GET", "/metrics")
        .will_respond_with(200)
        .with_header(
            "Content-Type", match.regex("text/plain; version=0.0.4", regex=r"^text/plain.*")
        )
    )
    with _serve(pact) as srv, ApiClient(str(srv.url)) as client:
        assert isinstance(client.metrics(), str)


# -- the committed pact ---------------------------------------------------------------


def _interactions(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text(encoding="utf-8"))
    return {i["description"]: i for i in document["interactions"]}


def test_committed_pact_is_what_the_consumer_tests_record(
    recorded_dir: Path, request: pytest.FixtureRequest
) -> None:
    """The committed pact is exactly what the tests above record (refresh: make contracts)."""
    module = request.node.module
    expected = [
        item
        for item in request.session.items
        if getattr(item, "module", None) is module and item.name.startswith(_PREFIX)
    ]
    ran_all = len(expected) == len([n for n in dir(module) if n.startswith(_PREFIX)])
    if not ran_all:  # a -k or node-id selection: the recorded pact is partial by choice
        pytest.skip("the pact comparison needs every interaction test of this module selected")
    failed = [item.name for item in expected if not item.stash.get(PASSED, False)]
    assert not failed, f"cannot compare the pact: interaction tests failed: {', '.join(failed)}"
    recorded = recorded_dir / pacts.api_pact_path().name
    committed = pacts.api_pact_path()
    if os.environ.get(UPDATE_ENV) == "1":
        shutil.copyfile(recorded, committed)
    assert committed.exists(), f"{committed} is missing: run `make contracts`"
    mine, theirs = _interactions(recorded), _interactions(committed)
    assert sorted(mine) == sorted(theirs), (
        "the committed pact's interactions differ from the consumer tests: run `make contracts`"
    )
    for description, interaction in mine.items():
        assert interaction == theirs[description], (
            f"interaction {description!r} changed: run `make contracts` and commit the pact"
        )
