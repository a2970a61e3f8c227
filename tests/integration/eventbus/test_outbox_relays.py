"""Several outbox relays on one database publish every event exactly once: real RabbitMQ,
real SQLite and PostgreSQL stores, the relays' own code (asyncio and synchronous).

Rows left by a relay that died (its lease run out) are swept by both live relays at once,
while each also writes and hands over rows of its own; the consumer queue then holds each
event exactly once and the outbox is empty. Without the claim (``Outbox.claim``: row
locks skipped on PostgreSQL, the lease re-checked by the ``UPDATE`` itself), both sweeps
publish the same rows.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import MetaData

from contracts.events import TransactionsIngested
from eventbus import AsyncPublisher, Outbox, OutboxRelay, OutgoingMessage, SyncPublisher
from eventbus.outbox import outbox_table
from eventbus.relay_sync import SyncOutboxRelay
from service_runtime.database import Database
from tests.amqp_support import drain, fresh_vhost, message_count, wait_for
from tests.integration.eventbus.test_broker_clients import QUEUE, message
from tests.postgres_support import fresh_schema

ORPHANS = 600  # rows a dead relay left behind
OWN = 150  # rows each live relay writes while the sweep runs


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    metadata = MetaData()
    outbox_table(metadata)
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'outbox.db'}", metadata)
        db.create_schema()
        yield db
        db.dispose()
        return
    with fresh_schema("outbox_relays") as url:
        db = Database(url, metadata)
        db.create_schema()
        yield db
        db.dispose()


@pytest.fixture()
def vhost() -> Iterator[str]:
    with fresh_vhost("kit-relays") as uri:
        yield uri


def _table(db: Database) -> Outbox:
    assert db.metadata is not None
    return Outbox(db.metadata.tables["outbox"])


def _orphans(db: Database) -> list[str]:
    """Rows written by a process that is gone: its lease is already over."""
    dead = Outbox(_table(db).table, owner="dead-relay", lease_s=0.001)
    messages = [message() for _ in range(ORPHANS)]
    with db.session() as session:
        dead.add_many(session, messages)
    time.sleep(0.01)
    return [m.event_id for m in messages]


def _published(uri: str, expected: int) -> Counter[str]:
    wait_for(lambda: message_count(uri, QUEUE.name) >= expected, 60, f"{expected} events")
    time.sleep(1.0)  # anything published twice has arrived by now too
    return Counter(
        TransactionsIngested.from_message(body).event_id for _, body in drain(uri, QUEUE.name)
    )


def _depth(db: Database) -> int:
    with db.session() as session:
        return _table(db).depth(session)


def test_two_asyncio_relays_publish_every_event_exactly_once(
    database: Database, vhost: str
) -> None:
    expected = _orphans(database)

    async def live(outbox: Outbox, publisher: AsyncPublisher) -> list[str]:
        relay = OutboxRelay(database.session, outbox, publisher, batch_size=50, linger_s=0)
        await relay.start()
        written = []
        for _ in range(OWN // 10):
            messages = [message() for _ in range(10)]
            await asyncio.to_thread(_write, outbox, messages)
            relay.hand_over(messages)
            relay.wake()  # a sweep too, racing the other relay's over the orphans
            written += [m.event_id for m in messages]
            await asyncio.sleep(0.01)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and await asyncio.to_thread(_depth, database) > 0:
            await asyncio.sleep(0.1)
        await relay.close()
        return written

    def _write(outbox: Outbox, messages: list[OutgoingMessage]) -> None:
        with database.session() as session:
            outbox.add_many(session, messages)

    async def run() -> list[str]:
        async with AsyncPublisher(vhost) as first, AsyncPublisher(vhost) as second:
            assert await first.wait_connected(10) and await second.wait_connected(10)
            ours = await asyncio.gather(
                live(_table(database), first), live(_table(database), second)
            )
        return [event for written in ours for event in written]

    expected += asyncio.run(run())
    published = _published(vhost, len(expected))
    assert _depth(database) == 0
    assert sorted(published) == sorted(expected)
    assert max(published.values()) == 1, [e for e, n in published.items() if n > 1][:5]


def test_a_row_swept_before_its_hand_over_is_published_once(database: Database, vhost: str) -> None:
    """The race the concurrent test hits now and then, made certain: a request commits its
    row, the relay's sweep takes it, and only then does the hand-over reach the loop."""
    outbox = _table(database)
    messages = [message() for _ in range(20)]

    async def run() -> None:
        async with AsyncPublisher(vhost) as publisher:
            assert await publisher.wait_connected(10)
            relay = OutboxRelay(database.session, outbox, publisher, batch_size=50, linger_s=0)
            await relay.start()
            with database.session() as session:
                outbox.add_many(session, messages)
            relay.wake()
            while _depth(database) > 0:
                await asyncio.sleep(0.05)
            relay.hand_over(messages)  # late: the sweep has published and deleted them
            await asyncio.sleep(0.5)
            await relay.close()

    asyncio.run(run())
    published = _published(vhost, len(messages))
    assert sorted(published) == sorted(m.event_id for m in messages)
    assert max(published.values()) == 1, [e for e, n in published.items() if n > 1][:5]


def test_two_synchronous_relays_publish_every_event_exactly_once(
    database: Database, vhost: str
) -> None:
    expected = _orphans(database)
    relays = [
        SyncOutboxRelay(database.session, _table(database), SyncPublisher(vhost), batch_size=40)
        for _ in range(2)
    ]
    start = threading.Barrier(len(relays))

    def drain_outbox(relay: SyncOutboxRelay) -> None:
        start.wait()
        while relay.relay_once():
            pass

    threads = [threading.Thread(target=drain_outbox, args=(relay,)) for relay in relays]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for relay in relays:
        relay.publisher.close()
    published = _published(vhost, len(expected))
    assert _depth(database) == 0
    assert sorted(published) == sorted(expected)
    assert max(published.values()) == 1, [e for e, n in published.items() if n > 1][:5]
