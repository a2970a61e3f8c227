"""A nameko worker receives what the aio-pika publisher sends, typed; a handler that
raises gets its event retried after the delay (a passing failure heals) and, after the last
retry, parked in the dead-letter queue with the reason, not acked and lost."""

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
#: When each attempt at the flaky event started (it fails twice, then succeeds).
FLAKY_ATTEMPTS: list[float] = []
RETRIES, DELAY_S = 2, 0.5
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

    @event_handler("ingestion", "transactions_ingested", max_retries=RETRIES, retry_delay_s=DELAY_S)
    def handle_transactions_ingested(self, event: TransactionsIngested) -> None:
        tid = event.transactions[0].transaction_id
        if tid == "poison":
            raise RuntimeError("cannot train on this")
        if tid == "flaky":
            FLAKY_ATTEMPTS.append(time.monotonic())
            if len(FLAKY_ATTEMPTS) <= RETRIES:
                raise RuntimeError("the store blinked")
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
                [sys.executable, "-c", PUBLISH, uri, "tx-nameko-1", "poison", "flaky"],
                check=True,
                timeout=60,
            )
            assert _wait(lambda: len(RECEIVED) == 2, 30)
            event = next(e for e in RECEIVED if e.transactions[0].transaction_id != "flaky")
            assert isinstance(event, TransactionsIngested)
            assert event.transactions[0].transaction_id == "tx-nameko-1"
            assert event.transactions[0].amount == 3.25
            # the passing failure healed: two failed attempts, each retried after the delay
            assert [e.transactions[0].transaction_id for e in RECEIVED].count("flaky") == 1
            assert len(FLAKY_ATTEMPTS) == RETRIES + 1
            gaps = [b - a for a, b in zip(FLAKY_ATTEMPTS, FLAKY_ATTEMPTS[1:], strict=False)]
            assert all(gap >= DELAY_S * 0.9 for gap in gaps), gaps
            # the poison was retried too, then parked with why (not acked, not lost)
            assert _wait(lambda: message_count(uri, QUEUE.dead_letter_queue) == 1, 20)
            (parked,) = list_parked(uri, QUEUE.name)
            assert parked.reason == "RuntimeError: cannot train on this"
            assert parked.retries == RETRIES
            assert message_count(uri, QUEUE.retry_queue) == 0
        finally:
            container.kill()
