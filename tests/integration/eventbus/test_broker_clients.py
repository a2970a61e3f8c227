"""The messaging layer on the real broker: confirms, returns, reconnect after the broker
drops the connection, and the async consumer's retries then parking."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from contracts.events import TransactionsIngested
from contracts.transactions import Transaction
from eventbus import (
    AsyncConsumer,
    AsyncPublisher,
    Delivery,
    Management,
    OutgoingMessage,
    PublishFailed,
    RetryPolicy,
    build_topology,
    encode,
)
from eventbus.dlq import list_parked, replay
from tests.amqp_support import drain, fresh_vhost, message_count

QUEUE = build_topology().consumer_queue("legacy_sync", "transactions_ingested")
TX = {
    "transaction_id": "tx-1",
    "account_id": "acct-1",
    "amount": 12.5,
    "currency": "EUR",
    "merchant_category": "5411",
    "country": "DE",
    "channel": "web",
    "timestamp": "2026-11-25T10:15:00+01:00",
}


def message() -> OutgoingMessage:
    tx = Transaction.model_validate_json(json.dumps(TX))
    return encode(TransactionsIngested(ingested_at=datetime.now(UTC), transactions=[tx]))


@pytest.fixture()
def vhost() -> Iterator[str]:
    with fresh_vhost("kit-messaging") as uri:
        yield uri


def test_confirmed_batches_land_persistent_and_unroutable_is_a_failure(vhost: str) -> None:
    async def run() -> tuple[list[PublishFailed | None], PublishFailed | None]:
        async with AsyncPublisher(vhost) as publisher:
            assert await publisher.wait_connected(10)
            results = await publisher.publish_many([message() for _ in range(200)])
            nowhere = message()
            nowhere = OutgoingMessage(**{**nowhere.__dict__, "routing_key": "nobody_listens"})
            try:
                await publisher.publish(nowhere)
                return results, None
            except PublishFailed as exc:
                return results, exc

    results, unroutable = asyncio.run(run())
    assert results == [None] * 200
    assert unroutable is not None and "unroutable" in str(unroutable)
    delivered = drain(vhost, QUEUE.name)
    assert len(delivered) == 200
    props, _body = delivered[0]
    assert props.delivery_mode == 2 and props.content_type == "application/json"
    assert props.headers["event_id"] == props.message_id


def test_publisher_reconnects_after_the_broker_drops_it_and_never_fakes_a_confirm(
    vhost: str,
) -> None:
    management = Management.from_amqp_uri(vhost)

    async def run() -> tuple[int, int, int]:
        async with AsyncPublisher(vhost, name="reconnect-test") as publisher:
            assert await publisher.wait_connected(10)
            confirmed = 0
            failed = 0
            first = publisher.connects
            for round_ in range(30):
                if round_ == 5:
                    names: list[str] = []
                    for _ in range(100):  # the management API lists connections with a lag
                        names = [
                            c["name"]
                            for c in await asyncio.to_thread(management.connections)
                            if c.get("client_properties", {}).get("connection_name")
                            == "reconnect-test"
                        ]
                        if names:
                            break
                        await asyncio.sleep(0.2)
                    assert names, "the publisher's connection is visible"
                    for name in names:
                        await asyncio.to_thread(management.close_connection, name)
                results = await publisher.publish_many([message() for _ in range(20)])
                confirmed += sum(r is None for r in results)
                failed += sum(r is not None for r in results)
                await asyncio.sleep(0.1)
            return confirmed, failed, publisher.connects - first

    confirmed, failed, reconnects = asyncio.run(run())
    assert reconnects >= 1
    assert failed > 0  # publishes during the outage were reported as failures ...
    assert message_count(vhost, QUEUE.name) == confirmed  # ... and every confirm is real


def test_async_consumer_retries_with_delay_then_parks_and_replay_delivers(vhost: str) -> None:
    attempts: list[float] = []
    healthy = asyncio.Event()
    handled: list[str] = []

    async def handler(delivery: Delivery) -> None:
        if not healthy.is_set():
            attempts.append(asyncio.get_running_loop().time())
            raise RuntimeError("downstream is down")
        handled.append(delivery.event_id)

    async def run() -> str:
        consumer = AsyncConsumer(
            vhost, QUEUE, handler, policy=RetryPolicy(max_retries=3, delay_s=0.3)
        )
        await consumer.start()
        try:
            assert await consumer.wait_connected(10)
            async with AsyncPublisher(vhost) as publisher:
                assert await publisher.wait_connected(10)
                sent = message()
                await publisher.publish(sent)
            for _ in range(100):
                if consumer.stats.parked:
                    break
                await asyncio.sleep(0.1)
            assert consumer.stats.parked == 1 and consumer.stats.retried == 3
            (parked,) = await asyncio.to_thread(list_parked, vhost, QUEUE.name)
            assert parked.event_id == sent.event_id
            assert parked.retries == 3 and "downstream is down" in parked.reason
            healthy.set()
            done = await asyncio.to_thread(replay, vhost, QUEUE.dead_letter_queue)
            assert [p.event_id for p in done] == [sent.event_id]
            for _ in range(50):
                if handled:
                    break
                await asyncio.sleep(0.1)
            return sent.event_id
        finally:
            await consumer.close()

    event_id = asyncio.run(run())
    assert handled == [event_id]
    assert len(attempts) == 4  # the first try and three retries
    gaps = [b - a for a, b in zip(attempts, attempts[1:], strict=False)]
    assert all(gap >= 0.25 for gap in gaps), gaps
    assert message_count(vhost, QUEUE.dead_letter_queue) == 0


def test_a_retired_consumer_keeps_no_queue_and_a_restored_one_fills_again(vhost: str) -> None:
    """Decommissioning: every producer declares the legacy sync's queue again, so only a
    policy stops it from filling forever with events nobody reads."""
    from eventbus import SyncPublisher, restore_consumer, retire_consumer

    management = Management.from_amqp_uri(vhost)
    topology = build_topology()
    event = TransactionsIngested(
        ingested_at=datetime.now(UTC),
        transactions=[Transaction.model_validate_json(json.dumps(TX))],
    )
    retired = retire_consumer(management, topology, "legacy_sync")
    assert retired == [QUEUE.name, QUEUE.retry_queue]
    with SyncPublisher(vhost) as publisher:
        publisher.publish(encode(event))  # still routable: training's queue takes it
    training = topology.consumer_queue("training", "transactions_ingested").name
    time.sleep(0.5)  # the management API's counts lag a little
    assert message_count(vhost, QUEUE.name) == 0 and message_count(vhost, training) == 1
    restore_consumer(management, topology, "legacy_sync")
    with SyncPublisher(vhost) as publisher:
        publisher.publish(encode(event))
    time.sleep(0.5)
    assert message_count(vhost, QUEUE.name) == 1
    names = {p["name"] for p in management.policies()}
    assert not [name for name in names if name.startswith("retired-")]
