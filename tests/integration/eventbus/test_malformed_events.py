"""Malformed events on the real broker: each one is parked in the consumer's dead-letter
queue at once, with the reason, never retried, never a crash loop; the valid event
published after them is handled. Both consumers (asyncio and pika) are held to it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pika
import pytest

from contracts.events import TransactionsIngested
from datagen import TransactionGenerator
from eventbus import AsyncConsumer, Delivery, RetryPolicy, build_topology, encode
from eventbus.consumer_sync import SyncConsumer, run_in_thread, wait_connected
from eventbus.dlq import list_parked
from eventbus.wire import MAX_EVENT_BYTES
from tests.amqp_support import fresh_vhost, message_count

QUEUE = build_topology().consumer_queue("legacy_sync", "transactions_ingested")

#: (event_id, body, content type, what the parked reason says)
MALFORMED: list[tuple[str, bytes, str | None, str]] = [
    ("not-json", b"{nope", None, "not JSON"),
    ("wrong-type", b"{}", "text/plain", "content type"),
    ("other-event", json.dumps({"event_type": "model_promoted"}).encode(), None, "is not a"),
    (
        "breaks-schema",
        json.dumps({"event_type": "transactions_ingested", "transactions": "x"}).encode(),
        None,
        "schema",
    ),
    (
        "oversized",
        b'{"event_type": "transactions_ingested", "pad": "' + b"x" * MAX_EVENT_BYTES + b'"}',
        None,
        "limit",
    ),  # fmt: skip
]


@pytest.fixture()
def vhost() -> Iterator[str]:
    with fresh_vhost("kit-malformed") as uri:
        yield uri


def _publish_raw(uri: str) -> str:
    """The malformed bodies, then one valid event; returns the valid event's id."""
    valid = encode(
        TransactionsIngested(
            ingested_at=datetime.now(UTC),
            transactions=TransactionGenerator(seed=5, id_prefix="ok").generate(1),
        )
    )
    connection = pika.BlockingConnection(pika.URLParameters(uri))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for event_id, body, content_type, _ in MALFORMED:
            channel.basic_publish(
                "",
                QUEUE.name,
                body,
                pika.BasicProperties(
                    content_type=content_type or valid.content_type,
                    message_id=event_id,
                    headers={"event_id": event_id},
                    delivery_mode=2,
                ),
            )
        channel.basic_publish(
            valid.exchange,
            valid.routing_key,
            valid.body,
            pika.BasicProperties(
                content_type=valid.content_type,
                content_encoding=valid.content_encoding,
                message_id=valid.event_id,
                headers=dict(valid.headers),
                delivery_mode=2,
            ),
        )
    finally:
        connection.close()
    return valid.event_id


def _assert_parked_with_reasons(uri: str) -> None:
    parked = {p.event_id: p for p in list_parked(uri, QUEUE.name)}
    assert set(parked) == {m[0] for m in MALFORMED}
    for event_id, _, _, reason in MALFORMED:
        assert reason in parked[event_id].reason, (event_id, parked[event_id].reason)
        assert parked[event_id].retries == 0, "a malformed event is never retried"
    assert message_count(uri, QUEUE.name) == 0 and message_count(uri, QUEUE.retry_queue) == 0


def test_the_async_consumer_parks_each_malformed_event_and_goes_on(vhost: str) -> None:
    handled: list[str] = []

    async def handler(delivery: Delivery) -> None:
        handled.append(delivery.event_id)

    async def run() -> tuple[int, int]:
        consumer = AsyncConsumer(vhost, QUEUE, handler, policy=RetryPolicy(3, 0.2))
        await consumer.start()
        try:
            assert await consumer.wait_connected(10)
            valid = await asyncio.to_thread(_publish_raw, vhost)
            for _ in range(150):
                if handled and consumer.stats.parked == len(MALFORMED):
                    break
                await asyncio.sleep(0.1)
            assert handled == [valid]
            return consumer.stats.parked, consumer.stats.retried
        finally:
            await consumer.close()

    parked, retried = asyncio.run(run())
    assert (parked, retried) == (len(MALFORMED), 0)
    _assert_parked_with_reasons(vhost)


def test_the_sync_consumer_parks_each_malformed_event_and_goes_on(vhost: str) -> None:
    handled: list[str] = []
    consumer = SyncConsumer(
        vhost, QUEUE, lambda delivery: handled.append(delivery.event_id), policy=RetryPolicy(3, 0.2)
    )
    thread, stop = run_in_thread(consumer)
    try:
        assert wait_connected(consumer, 10)
        valid = _publish_raw(vhost)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not (
            handled and consumer.stats.parked == len(MALFORMED)
        ):
            time.sleep(0.1)
        assert handled == [valid]
        assert consumer.stats.parked == len(MALFORMED)
    finally:
        stop.set()
        thread.join(timeout=10)
    _assert_parked_with_reasons(vhost)
