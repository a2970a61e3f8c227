"""The helpdesk's tickets on SQLite and PostgreSQL: what the monolith stores, the read
service reads back unchanged (the same string for the time, the same order)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.helpdesk.api import TicketIn
from examples.helpdesk.store import TicketStore, make_engine
from tests.postgres_support import BACKENDS, fresh_database


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TicketStore]:
    with fresh_database(request.param, tmp_path, "helpdesk") as url:
        engine = make_engine(url)
        tickets = TicketStore(engine)
        tickets.create_schema()
        try:
            yield tickets
        finally:
            engine.dispose()


def test_tickets_read_back_as_filed_newest_first(store: TicketStore) -> None:
    filed = [
        store.create(TicketIn(customer_id=f"cust-{i % 2}", subject=f"s{i}", body="b"))
        for i in range(5)
    ]
    assert [store.get(t.id) for t in filed] == filed
    assert store.get(10_000) is None
    assert [t.id for t in store.list("cust-0", 10)] == [filed[4].id, filed[2].id, filed[0].id]
    assert len(store.list(None, 2)) == 2
    store.ping()


def test_a_second_engine_on_the_same_database_sees_the_same_tickets(
    store: TicketStore,
) -> None:
    ticket = store.create(TicketIn(customer_id="cust-x", subject="shared"))
    reader = TicketStore(make_engine(str(store.engine.url.render_as_string(hide_password=False))))
    try:
        assert reader.get(ticket.id) == ticket
    finally:
        reader.engine.dispose()
