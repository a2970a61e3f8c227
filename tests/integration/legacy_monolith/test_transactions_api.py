"""POST /api/v1/transactions: validated, idempotent ingestion that never half-writes a batch."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from contracts.transactions import MAX_BATCH_SIZE
from datagen import generate
from legacy_monolith.schema import TransactionRow
from tests.integration.legacy_monolith._support import (
    JSON,
    assert_problem,
    ingest_all,
    post_json,
    tx_json,
)

PATH = "/api/v1/transactions"
TXS = generate(5, seed=1)


def stored_ids(app: Flask) -> list[str]:
    with app.extensions["monolith"].db.session() as session:
        return sorted(session.scalars(select(TransactionRow.transaction_id)))


def row_count(app: Flask) -> int:
    with app.extensions["monolith"].db.session() as session:
        return int(session.scalar(select(func.count()).select_from(TransactionRow)) or 0)


def test_one_transaction_is_accepted_and_stored(app: Flask, client: FlaskClient) -> None:
    response = post_json(client, PATH, tx_json(TXS[0]))

    assert response.status_code == 202
    receipt = response.get_json()
    assert receipt["accepted"] == 1 and receipt["duplicates"] == 0
    (result,) = receipt["results"]
    assert result["transaction_id"] == TXS[0].transaction_id
    assert result["status"] == "accepted"
    assert datetime.fromisoformat(result["ingested_at"]).utcoffset() is not None
    assert stored_ids(app) == [TXS[0].transaction_id]
    with app.extensions["monolith"].db.session() as session:
        row = session.get(TransactionRow, TXS[0].transaction_id)
        assert row is not None
        assert row.amount == TXS[0].amount
        assert row.is_fraud == TXS[0].is_fraud


def test_a_batch_is_accepted_in_order(app: Flask, client: FlaskClient) -> None:
    response = post_json(client, PATH, {"transactions": [tx_json(t) for t in TXS]})

    assert response.status_code == 202
    receipt = response.get_json()
    assert receipt["accepted"] == 5
    assert [r["transaction_id"] for r in receipt["results"]] == [t.transaction_id for t in TXS]
    assert stored_ids(app) == sorted(t.transaction_id for t in TXS)


def test_a_full_batch_of_1000_is_accepted(app: Flask, client: FlaskClient) -> None:
    assert ingest_all(client, generate(MAX_BATCH_SIZE, seed=2)) == MAX_BATCH_SIZE
    assert row_count(app) == MAX_BATCH_SIZE


def test_a_repeat_is_a_duplicate_with_the_original_time_and_no_new_row(
    app: Flask, client: FlaskClient
) -> None:
    first = post_json(client, PATH, tx_json(TXS[0])).get_json()["results"][0]

    again = post_json(client, PATH, tx_json(TXS[0]))

    assert again.status_code == 202
    receipt = again.get_json()
    assert receipt["accepted"] == 0 and receipt["duplicates"] == 1
    assert receipt["results"][0]["status"] == "duplicate"
    assert receipt["results"][0]["ingested_at"] == first["ingested_at"]
    assert row_count(app) == 1


def test_a_batch_mixing_new_and_repeated_transactions(app: Flask, client: FlaskClient) -> None:
    post_json(client, PATH, tx_json(TXS[0]))
    response = post_json(client, PATH, {"transactions": [tx_json(t) for t in TXS[:3]]})

    receipt = response.get_json()
    assert [r["status"] for r in receipt["results"]] == ["duplicate", "accepted", "accepted"]
    assert (receipt["accepted"], receipt["duplicates"]) == (2, 1)
    assert row_count(app) == 3


def test_the_same_transaction_twice_in_one_batch_is_stored_once(
    app: Flask, client: FlaskClient
) -> None:
    body = {"transactions": [tx_json(TXS[0]), tx_json(TXS[0])]}
    receipt = post_json(client, PATH, body).get_json()

    assert [r["status"] for r in receipt["results"]] == ["accepted", "duplicate"]
    assert row_count(app) == 1


def test_a_repeat_with_a_different_body_is_a_409(app: Flask, client: FlaskClient) -> None:
    post_json(client, PATH, tx_json(TXS[0]))

    response = post_json(client, PATH, tx_json(TXS[0], amount=TXS[0].amount + 1))

    problem = assert_problem(response, 409, "conflict")
    assert TXS[0].transaction_id in problem["errors"][0]["message"]
    assert row_count(app) == 1


def test_a_batch_containing_a_conflict_writes_nothing(app: Flask, client: FlaskClient) -> None:
    post_json(client, PATH, tx_json(TXS[0]))
    body = {
        "transactions": [
            tx_json(TXS[1]),
            tx_json(TXS[0], channel="atm" if TXS[0].channel.value != "atm" else "web"),
            tx_json(TXS[2]),
        ]
    }

    problem = assert_problem(post_json(client, PATH, body), 409, "conflict")

    assert [e["field"] for e in problem["errors"]] == ["transactions[1]"]
    assert stored_ids(app) == [TXS[0].transaction_id]


def test_one_id_with_two_bodies_in_one_batch_is_a_409(app: Flask, client: FlaskClient) -> None:
    body = {"transactions": [tx_json(TXS[0]), tx_json(TXS[1]), tx_json(TXS[0], amount=1.0)]}

    problem = assert_problem(post_json(client, PATH, body), 409, "conflict")

    assert [e["field"] for e in problem["errors"]] == ["transactions[2].transaction_id"]
    assert row_count(app) == 0


def test_an_invalid_batch_writes_nothing(app: Flask, client: FlaskClient) -> None:
    items = [tx_json(t) for t in TXS]
    items[3]["amount"] = -1

    problem = assert_problem(post_json(client, PATH, {"transactions": items}), 422, "validation")

    assert problem["errors"] == [
        {"field": "transactions[3].amount", "message": problem["errors"][0]["message"]}
    ]
    assert "greater than 0" in problem["errors"][0]["message"]
    assert row_count(app) == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": "12.00"}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": 5_000_000}, "amount"),
        ({"amount": 1.001}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"country": "XX"}, "country"),
        ({"channel": "telepathy"}, "channel"),
        ({"timestamp": "2026-01-05T10:00:00"}, "timestamp"),
        ({"timestamp": "1970-01-01T00:00:00Z"}, "timestamp"),
        ({"unexpected": "field"}, "unexpected"),
    ],
)
def test_invalid_fields_are_422_problems_with_the_field(
    app: Flask, client: FlaskClient, overrides: dict[str, object], field: str
) -> None:
    problem = assert_problem(
        post_json(client, PATH, tx_json(TXS[0], **overrides)), 422, "validation"
    )
    assert [e["field"] for e in problem["errors"]] == [field]
    assert row_count(app) == 0


def test_malformed_json_is_a_400(client: FlaskClient) -> None:
    response = client.post(PATH, data=b'{"transaction_id": ', content_type=JSON)
    problem = assert_problem(response, 400, "malformed-json")
    assert "JSON" in problem["detail"]


def test_a_batch_of_1001_is_a_422(app: Flask, client: FlaskClient) -> None:
    items = [tx_json(t) for t in generate(MAX_BATCH_SIZE + 1, seed=3)]
    problem = assert_problem(post_json(client, PATH, {"transactions": items}), 422)
    assert problem["errors"][0]["field"] == "transactions"
    assert row_count(app) == 0


def test_an_empty_batch_is_a_422(client: FlaskClient) -> None:
    assert_problem(post_json(client, PATH, {"transactions": []}), 422, "validation")


def test_text_plain_is_a_415(app: Flask, client: FlaskClient) -> None:
    response = client.post(PATH, data=json.dumps(tx_json(TXS[0])), content_type="text/plain")
    problem = assert_problem(response, 415, "unsupported-media-type")
    assert "text/plain" in problem["detail"]
    assert row_count(app) == 0


def test_a_missing_content_type_is_a_415(client: FlaskClient) -> None:
    assert_problem(client.post(PATH, data=json.dumps(tx_json(TXS[0]))), 415)


def test_a_vendor_json_type_is_accepted(client: FlaskClient) -> None:
    response = client.post(
        PATH, data=json.dumps(tx_json(TXS[0])), content_type="application/vnd.kit+json"
    )
    assert response.status_code == 202


def test_an_oversized_body_is_a_413(app: Flask, client: FlaskClient) -> None:
    body = b'{"transactions": [' + b" " * (5 * 1024 * 1024) + b"]}"
    assert_problem(client.post(PATH, data=body, content_type=JSON), 413, "payload-too-large")
    assert row_count(app) == 0


def test_a_wrong_method_is_a_405_problem_with_allow(client: FlaskClient) -> None:
    response = client.get(PATH)
    assert_problem(response, 405, "method-not-allowed")
    assert "POST" in response.headers["Allow"]


def test_an_unknown_path_is_a_404_problem(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/nothing-here"), 404, "not-found")
    assert_problem(client.post("/api/v1/transactions/tx-1"), 404, "not-found")
