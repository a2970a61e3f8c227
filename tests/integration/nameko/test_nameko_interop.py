"""A nameko worker receives what the aio-pika publisher sends, typed; a handler that
raises gets its event parked in the dead-letter queue, not acked and lost."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

from nameko.containers import ServiceContainer

from contracts.events import TransactionsIngested
from eventbus import build_topology, list_parked
from eventbus.nameko_handler import event_handler
from tests.amqp_support import fresh_vhost, message_count

RECEIVED: list[TransactionsIngested] = []
QUEUE = build_topology().consumer_queue("training", "transactions_ingested")

PUBLISH = """
import asyncio, json, sys
from datetime import UTC, datetime
from contracts.events import TransactionsIngested
from eventbus import AsyncPublisher, encode
from contracts.transactions import Transaction

async def main():
    async with AsyncPublisher(sys.argv[1]) as publisher:
        assert await publisher.wait_connected(10)
        for tid in sys.argv[2:]:
            tx = Transaction.model_validate_json(json.dumps({
                "transaction_id": tid, "account_id": "a", "amount": 3.25, "currency": "EUR",
                "merchant_category": "5411", "country": "DE", "channel": "atm",
                "timestamp": "2026-11-25T10:15:00+01:00"}))
            await publisher.publish(encode(TransactionsIngested(
                ingested_at=datetime.now(UTC), transactions=[tx])))
asyncio.run(main())
"""


class Training:
    name = "training"

    @event_handler("ingestion", "transactions_ingested")
    def handle_transactions_ingested(self, event: TransactionsIngested) -> None:
        if event.transactions[0].transaction_id == "poison":
            raise RuntimeError("cannot train on this")
        RECEIVED.append(event)


def _wait(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_nameko_handler_receives_aio_pika_events_and_parks_failures() -> None:
    with fresh_vhost("kit-nameko") as uri:
        container = ServiceContainer(Training, config={"AMQP_URI": uri})
        container.start()
        try:
            # The publisher runs in its own (asyncio, eventlet-free) process, as in production.
            subprocess.run(
                [sys.executable, "-c", PUBLISH, uri, "tx-nameko-1", "poison"],
                check=True,
                timeout=60,
            )
            assert _wait(lambda: len(RECEIVED) == 1, 20)
            (event,) = RECEIVED
            assert isinstance(event, TransactionsIngested)
            assert event.transactions[0].transaction_id == "tx-nameko-1"
            assert event.transactions[0].amount == 3.25
            assert _wait(lambda: message_count(uri, QUEUE.dead_letter_queue) == 1, 20)
            (parked,) = list_parked(uri, QUEUE.name)
            assert "rejected by training" in parked.reason
        finally:
            container.kill()
