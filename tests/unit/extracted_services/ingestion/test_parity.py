"""Same body -> same status, problem type, title, detail and ``errors`` from the monolith
and from the ingestion service (fresh app and database per test on both sides)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from extracted_services.ingestion.app import create_app as create_ingestion
from extracted_services.ingestion.settings import Settings as IngestionSettings
from legacy_monolith.app import create_app as create_monolith
from legacy_monolith.settings import Settings as MonolithSettings

PATH = "/api/v1/transactions"


def tx(i: int = 1, **overrides: Any) -> dict[str, Any]:
    body = {
        "transaction_id": f"tx-{i}",
        "account_id": "acct-1",
        "amount": 12.5,
        "currency": "EUR",
        "merchant_category": "5411",
        "country": "DE",
        "channel": "web",
        "timestamp": "2026-11-25T10:15:00+01:00",
    }
    body.update(overrides)
    return body


def js(document: Any) -> bytes:
    return json.dumps(document).encode()


JSON = "application/json"
CASES: dict[str, list[tuple[bytes, str]]] = {
    "one transaction": [(js(tx()), JSON)],
    "a batch with a repeat": [(js({"transactions": [tx(1), tx(2), tx(1)]}), JSON)],
    "a repeat later is a duplicate": [(js(tx()), JSON), (js(tx()), JSON)],
    "a stored id with another body": [(js(tx()), JSON), (js(tx(amount=13.0)), JSON)],
    "a batch repeating an id with another body": [
        (js({"transactions": [tx(1), tx(1, amount=2.0)]}), JSON)
    ],
    "malformed JSON": [(b'{"transaction_id": ', JSON)],
    "empty body": [(b"", JSON)],
    "an array": [(js([tx()]), JSON)],
    "negative amount": [(js(tx(amount=-1)), JSON)],
    "three decimals": [(js(tx(amount=1.234)), JSON)],
    "many bad fields": [
        (js(tx(currency="XXX", country="ZZ", channel="fax", timestamp="yesterday")), JSON)
    ],
    "unknown field": [(js(tx(extra=1)), JSON)],
    "missing fields": [(js({"transaction_id": "x"}), JSON)],
    "empty batch": [(js({"transactions": []}), JSON)],
    "batch over 1000": [(js({"transactions": [tx(i) for i in range(1001)]}), JSON)],
    "amount as a string": [(js(tx(amount="12.50")), JSON)],
    "text/plain": [(js(tx()), "text/plain")],
    "problem+json is JSON": [(js(tx()), "application/merge-patch+json")],
    "over 4 MiB": [(b'{"transactions": [' + b" " * (4 * 1024 * 1024 + 10) + b"]}", JSON)],
}


@pytest.fixture()
def monolith(tmp_path: Path) -> Any:
    settings = MonolithSettings(
        database_url=f"sqlite:///{tmp_path / 'monolith.db'}",
        model_dir=tmp_path / "models",
        log_json=False,
    )
    return create_monolith(settings).test_client()


@pytest.fixture()
def ingestion(tmp_path: Path) -> Iterator[TestClient]:
    settings = IngestionSettings(
        database_url=f"sqlite:///{tmp_path / 'ingestion.db'}",
        amqp_uri="amqp://guest:guest@127.0.0.1:1/",  # no broker: the outbox keeps events
        broker_grace_s=3600,
        log_json=False,
    )
    with TestClient(create_ingestion(settings)) as client:
        yield client


def _comparable(status: int, content_type: str, body: Any) -> tuple[Any, ...]:
    if isinstance(body, dict):
        body = dict(body)
        for result in body.get("results", []):
            result.pop("ingested_at")
    return status, content_type.split(";")[0], body


@pytest.mark.parametrize("case", list(CASES))
def test_same_request_same_answer(case: str, monolith: Any, ingestion: TestClient) -> None:
    for raw, content_type in CASES[case]:
        m = monolith.post(PATH, data=raw, content_type=content_type)
        i = ingestion.post(PATH, content=raw, headers={"content-type": content_type})
        expected = _comparable(m.status_code, m.headers["content-type"], m.get_json(silent=True))
        got = _comparable(i.status_code, i.headers["content-type"], i.json())
        assert got == expected, case
        assert got[0] in (202, 400, 409, 413, 415, 422)


def test_a_202_put_exactly_the_new_transactions_in_the_outbox(ingestion: TestClient) -> None:
    from sqlalchemy import select

    from extracted_services.ingestion.db import outbox

    ingestion.post(PATH, json=tx(1))
    response = ingestion.post(PATH, json={"transactions": [tx(1), tx(2), tx(3), tx(2)]})
    assert response.json()["accepted"] == 2
    runtime = ingestion.app.state.runtime  # type: ignore[attr-defined]
    with runtime.db.transaction() as session:
        rows = session.execute(select(outbox.c.body).order_by(outbox.c.id)).all()
    events = [json.loads(row.body) for row in rows]
    assert [[t["transaction_id"] for t in e["transactions"]] for e in events] == [
        ["tx-1"],
        ["tx-2", "tx-3"],
    ]
    assert ingestion.post(PATH, json=tx(1)).json()["duplicates"] == 1
    with runtime.db.transaction() as session:
        assert len(session.execute(select(outbox.c.id)).all()) == 2
