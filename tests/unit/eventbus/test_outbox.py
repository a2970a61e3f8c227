"""The outbox commits with the work, relays in order, and drops only confirmed rows."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from contracts.events import TransactionsIngested
from contracts.transactions import Transaction
from eventbus import Outbox, OutboxRelay, OutgoingMessage, PublishFailed, encode
from eventbus.outbox import outbox_table

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


class Store:
    def __init__(self, path: Path) -> None:
        self.metadata = MetaData()
        self.work = Table("work", self.metadata, Column("id", Integer, primary_key=True))
        self.outbox = Outbox(outbox_table(self.metadata))
        self.engine = create_engine(f"sqlite:///{path}")
        self.metadata.create_all(self.engine)
        self.sessions = sessionmaker(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.sessions() as session, session.begin():
            yield session


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "outbox.db")
    yield s
    s.engine.dispose()


class FakePublisher:
    """Stands in for the broker (outside the outbox's bounded context): fails chosen ids."""

    def __init__(self, fail: set[str] | None = None) -> None:
        self.fail = fail or set()
        self.connected = True
        self.sent: list[str] = []

    async def publish_many(self, messages: Sequence[OutgoingMessage]) -> list[Any]:
        out: list[Any] = []
        for m in messages:
            if m.event_id in self.fail:
                out.append(PublishFailed("nacked"))
            else:
                self.sent.append(m.event_id)
                out.append(None)
        return out

    async def wait_connected(self, timeout_s: float) -> bool:
        return self.connected


def test_a_rolled_back_transaction_leaves_no_event(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as session:
        session.execute(insert(store.work).values(id=1))
        store.outbox.add(session, message())
        raise RuntimeError("the work failed")
    with store.transaction() as session:
        assert store.outbox.depth(session) == 0
        assert session.execute(select(store.work)).first() is None


def test_pending_rows_come_back_identical_and_in_commit_order(store: Store) -> None:
    sent = [message() for _ in range(3)]
    for m in sent:
        with store.transaction() as session:
            store.outbox.add(session, m)
    with store.transaction() as session:
        pending = store.outbox.pending(session, 10)
    assert [p.message.event_id for p in pending] == [m.event_id for m in sent]
    first = pending[0].message
    assert (first.body, dict(first.headers)) == (sent[0].body, dict(sent[0].headers))
    assert (first.exchange, first.routing_key, first.app_id) == (
        "ingestion.events",
        "transactions_ingested",
        "ingestion",
    )


def test_relay_deletes_only_confirmed_rows_and_reports_them(store: Store) -> None:
    messages = [message() for _ in range(4)]
    with store.transaction() as session:
        for m in messages:
            store.outbox.add(session, m)
    publisher = FakePublisher(fail={messages[1].event_id})
    reported: list[int] = []
    relay = OutboxRelay(
        store.transaction,
        store.outbox,
        publisher,  # type: ignore[arg-type]
        batch_size=10,
        on_published=lambda n, ages: reported.append(n),
    )

    async def one_pass() -> int:
        try:
            return await relay.relay_once()
        finally:
            await relay.close()

    assert asyncio.run(one_pass()) == 3
    assert reported == [3]
    assert relay.depth == 1
    with store.transaction() as session:
        (left,) = store.outbox.pending(session, 10)
    assert left.message.event_id == messages[1].event_id


def test_relay_publishes_nothing_while_disconnected(store: Store) -> None:
    with store.transaction() as session:
        store.outbox.add(session, message())
    publisher = FakePublisher()
    publisher.connected = False
    relay = OutboxRelay(store.transaction, store.outbox, publisher)  # type: ignore[arg-type]

    async def one_pass() -> int:
        try:
            return await relay.relay_once()
        finally:
            await relay.close()

    assert asyncio.run(one_pass()) == 0
    assert publisher.sent == []
    assert relay.depth == 1
