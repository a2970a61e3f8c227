"""The ingestion service honours the dry-run contract (``contracts.dry_run``) against a real
process, a real SQLite store and a real RabbitMQ vhost: a dry run answers the receipt a
real request would get and says so, and leaves the store's rows, its outbox and the broker
exactly as they were."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from contracts.dry_run import DRY_RUN_HEADER, DRY_RUN_VALUE, honoured
from contracts.events.models import TransactionsIngested
from datagen import generate
from eventbus import build_topology
from extracted_services.ingestion.db import outbox, transactions
from migration_playbook.runner.process import ManagedProcess, free_port
from tests.amqp_support import drain, fresh_vhost, wait_for

QUEUE = build_topology().consumer_queue("legacy_sync", "transactions_ingested").name
JSON = {"content-type": "application/json"}
DRY = {**JSON, DRY_RUN_HEADER: DRY_RUN_VALUE}


@pytest.fixture()
def service(tmp_path: Path) -> Iterator[tuple[ManagedProcess, str, str]]:
    with fresh_vhost("kit-dry-run") as uri:
        database = f"sqlite:///{tmp_path / 'ingestion.db'}"
        process = ManagedProcess(
            name="ingestion",
            module="extracted_services.ingestion",
            port=free_port(),
            log_path=tmp_path / "ingestion.log",
            env={"DATABASE_URL": database, "AMQP_URI": uri, "INGESTION_LOG_JSON": "false"},
        )
        process.start()
        try:
            process.wait_ready(60)
            yield process, database, uri
        finally:
            process.stop()


def _counts(database: str) -> tuple[int, int]:
    engine = create_engine(database)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(func.count()).select_from(transactions)).scalar_one()
            pending = connection.execute(select(func.count()).select_from(outbox)).scalar_one()
    finally:
        engine.dispose()
    return int(rows), int(pending)


def _published(uri: str) -> list[str]:
    return [
        tx.transaction_id
        for _, body in drain(uri, QUEUE)
        for tx in TransactionsIngested.from_message(body).transactions
    ]


def test_a_dry_run_answers_like_a_real_request_and_writes_and_publishes_nothing(
    service: tuple[ManagedProcess, str, str],
) -> None:
    process, database, uri = service
    url = f"{process.url}/api/v1/transactions"
    stored, fresh = generate(2, seed=31, id_prefix="dry")
    first = httpx.post(url, content=stored.model_dump_json(), headers=JSON)
    assert first.status_code == 202 and not honoured(first.headers)
    seen: list[str] = []
    wait_for(lambda: bool(seen.extend(_published(uri)) or seen), 20, "the real event")
    assert seen == [stored.transaction_id]
    wait_for(lambda: _counts(database) == (1, 0), 20, "the outbox to drain")

    batch = {"transactions": [stored.model_dump(mode="json"), fresh.model_dump(mode="json")]}
    dry = httpx.post(url, json=batch, headers=DRY)
    assert dry.status_code == 202 and honoured(dry.headers)
    receipt = dry.json()
    assert (receipt["accepted"], receipt["duplicates"]) == (1, 1)
    assert [r["status"] for r in receipt["results"]] == ["duplicate", "accepted"]
    time.sleep(1.0)  # what a relay would have published by now
    assert _counts(database) == (1, 0)
    assert _published(uri) == []

    # A dry run refuses what a real request refuses, with the same problem.
    changed = stored.model_copy(update={"amount": stored.amount + 1})
    conflict = httpx.post(url, content=changed.model_dump_json(), headers=DRY)
    assert conflict.status_code == 409
    assert conflict.headers["content-type"].startswith("application/problem+json")

    # The same body for real is stored and announced: the dry run held nothing back.
    real = httpx.post(url, json=batch, headers=JSON)
    assert real.status_code == 202 and not honoured(real.headers)
    assert [r["status"] for r in real.json()["results"]] == ["duplicate", "accepted"]
    wait_for(lambda: _counts(database) == (2, 0), 20, "the real batch to be stored and relayed")
    wait_for(lambda: bool(seen.extend(_published(uri)) or fresh.transaction_id in seen), 20, "ev")
    metrics = httpx.get(f"{process.url}/metrics").text
    assert "ingestion_dry_run_transactions_total 2.0" in metrics
