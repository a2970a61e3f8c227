"""Phase 2 for real: load on the ingestion service, the legacy sync keeps the monolith's
database complete, a repeated event changes nothing, a poison event is parked and replayed."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime

import httpx
import pika
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from contracts.events import TransactionsIngested
from contracts.transactions import Transaction
from eventbus import build_topology, encode
from migration_playbook.cli.app import app as kit
from migration_playbook.datamoves.reconcile import reconcile_ingestion
from tests.amqp_support import message_count, wait_for
from tests.integration.extracted_services.ingestion.conftest import Stack

QUEUE = build_topology().consumer_queue("legacy_sync", "transactions_ingested")


def tx(i: int | str, amount: float = 10.0) -> dict[str, object]:
    return {
        "transaction_id": f"tx-{i}",
        "account_id": f"acct-{hash(str(i)) % 50}",
        "amount": amount,
        "currency": "EUR",
        "merchant_category": "5411",
        "country": "DE",
        "channel": "pos",
        "timestamp": "2026-11-25T10:15:00+01:00",
    }


def monolith_rows(url: str, where: str = "1=1") -> list[tuple[str, float, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            query = f"SELECT transaction_id, amount, source FROM transactions WHERE {where}"
            return [(r[0], float(r[1]), r[2]) for r in connection.execute(text(query))]
    finally:
        engine.dispose()


def scalar(url: str, query: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(query)).scalar_one())
    finally:
        engine.dispose()


async def _load(url: str, batches: list[list[dict[str, object]]], concurrency: int) -> list[int]:
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def send(batch: list[dict[str, object]]) -> int:
            async with limit:
                body = {"transactions": batch} if len(batch) > 1 else batch[0]
                response = await client.post("/api/v1/transactions", json=body)
                return response.status_code

        return await asyncio.gather(*(send(b) for b in batches))


def publish_raw(uri: str, message_body: bytes, headers: dict[str, object], event_id: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(uri))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(
            "ingestion.events",
            "transactions_ingested",
            message_body,
            pika.BasicProperties(
                content_type="application/json",
                delivery_mode=2,
                headers=headers,
                message_id=event_id,
            ),
            mandatory=True,
        )
    finally:
        connection.close()


def test_concurrent_load_then_the_stores_reconcile_exactly(stack: Stack) -> None:
    rng = random.Random(6)
    ids = list(range(1500))
    batches = [
        [tx(i, amount=round(1 + i * 0.37, 2)) for i in ids[k : k + 25]] for k in range(0, 1500, 25)
    ]
    batches += [[tx(i, amount=round(1 + i * 0.37, 2))] for i in rng.sample(ids, 100)]  # repeats
    batches += [[tx(f"single-{i}", 5.0)] for i in range(100)]
    rng.shuffle(batches)
    statuses = asyncio.run(_load(stack.ingestion.url, batches, concurrency=16))
    assert set(statuses) == {202}
    expected = 1600
    wait_for(
        lambda: scalar(stack.monolith_db, "SELECT count(*) FROM transactions") >= expected,
        60,
        "the legacy sync to catch up",
    )
    report = reconcile_ingestion(stack.ingestion_db, stack.monolith_db)
    assert report.ok, report.to_dict()
    assert report.ingestion.count == report.monolith.count == expected
    assert {r[2] for r in monolith_rows(stack.monolith_db)} == {"sync"}
    metrics = httpx.get(stack.ingestion.url + "/metrics").text
    assert "ingestion_transactions_accepted_total 1600.0" in metrics
    assert "ingestion_outbox_depth 0.0" in metrics


def test_a_repeated_event_changes_nothing(stack: Stack) -> None:
    transaction = Transaction.model_validate_json(json.dumps(tx("dup-1", 42.0)))
    event = TransactionsIngested(ingested_at=datetime.now(UTC), transactions=[transaction])
    message = encode(event)
    for _ in range(3):
        publish_raw(stack.amqp_uri, message.body, dict(message.headers), event.event_id)
    processed = f"SELECT count(*) FROM processed_events WHERE event_id = '{event.event_id}'"
    wait_for(lambda: scalar(stack.monolith_db, processed) == 1, 30, "the event to be applied")
    wait_for(
        lambda: (
            "legacy_sync_events_skipped_total 2.0" in httpx.get(stack.sync.url + "/metrics").text
        ),
        30,
        "both repeats to be recognised",
    )
    assert monolith_rows(stack.monolith_db, "transaction_id = 'tx-dup-1'") == [
        ("tx-dup-1", 42.0, "sync")
    ]
    assert scalar(stack.monolith_db, "SELECT count(*) FROM processed_events") == 1


def test_a_poison_event_is_parked_after_its_retries_and_replays_once_fixed(stack: Stack) -> None:
    # The monolith already holds tx-poison with another amount: the sync conflicts.
    engine = create_engine(stack.monolith_db)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO transactions (transaction_id, account_id, amount, currency, "
                "merchant_category, country, channel, occurred_at, is_fraud, payload, "
                "ingested_at, source) VALUES ('tx-poison', 'a', 1.0, 'EUR', '5411', 'DE', "
                "'pos', '2026-11-25 09:15:00', NULL, '{}', '2026-11-25 09:15:00', 'api')"
            )
        )
    response = httpx.post(stack.ingestion.url + "/api/v1/transactions", json=tx("poison", 99.0))
    assert response.status_code == 202
    wait_for(lambda: message_count(stack.amqp_uri, QUEUE.dead_letter_queue) == 1, 30, "the DLQ")
    runner = CliRunner()
    env = {"AMQP_URI": stack.amqp_uri}
    listed = runner.invoke(kit, ["events", "dlq", "list", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    (parked,) = json.loads(listed.output)["messages"]
    assert parked["retries"] == 2  # MONOLITH_SYNC_MAX_RETRIES
    assert "already ingested with a different body" in parked["reason"]
    assert message_count(stack.amqp_uri, QUEUE.dead_letter_queue) == 1  # listing keeps it

    with engine.begin() as connection:  # the operator resolves the conflict ...
        connection.execute(text("DELETE FROM transactions WHERE transaction_id = 'tx-poison'"))
    engine.dispose()
    replayed = runner.invoke(
        kit, ["events", "dlq", "replay", "--queue", "legacy_sync:transactions_ingested"], env=env
    )
    assert replayed.exit_code == 0, replayed.output
    assert "replayed 1 message" in replayed.output
    wait_for(
        lambda: (
            monolith_rows(stack.monolith_db, "transaction_id = 'tx-poison'")
            == [("tx-poison", 99.0, "sync")]
        ),
        30,
        "the replayed event to be applied",
    )
    assert message_count(stack.amqp_uri, QUEUE.dead_letter_queue) == 0
    assert reconcile_ingestion(stack.ingestion_db, stack.monolith_db).ok
