"""The ingestion store on SQLite and on PostgreSQL (``ingestion_db``): a transaction is
stored once with its event, a repeat is a duplicate that writes nothing, a changed body is a
conflict that writes nothing, and overlapping batches from several writers at once store
each transaction exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from datagen import generate
from eventbus import Outbox
from extracted_services.ingestion.db import Database, outbox, transactions
from extracted_services.ingestion.domain import ingest
from extracted_services.ingestion.errors import Conflict

OUTBOX = Outbox(outbox)


@pytest.fixture()
def db(ingestion_db: str) -> Iterator[Database]:
    database = Database(ingestion_db)
    database.create_schema()
    try:
        yield database
    finally:
        database.dispose()


def _counts(db: Database) -> tuple[int, int]:
    with db.snapshot() as session:
        stored = session.scalar(select(func.count()).select_from(transactions))
        events = len(OUTBOX.pending(session, 1000))
    return int(stored or 0), events


def test_stored_once_with_its_event(db: Database) -> None:
    batch = generate(20, seed=1)
    first = ingest(db, OUTBOX, batch)
    assert first.receipt.accepted == 20 and first.message is not None
    again = ingest(db, OUTBOX, batch)
    assert again.receipt.duplicates == 20 and again.message is None
    assert {r.ingested_at for r in again.receipt.results} == {
        r.ingested_at for r in first.receipt.results
    }
    changed = batch[0].model_copy(update={"amount": batch[0].amount + 1})
    with pytest.raises(Conflict):
        ingest(db, OUTBOX, [*generate(3, seed=2), changed])
    assert _counts(db) == (20, 1)


def test_overlapping_batches_at_once_store_each_transaction_once(db: Database) -> None:
    pool = generate(300, seed=3)
    batches = [pool[start : start + 100] for start in range(0, 201, 25)]  # all overlap
    with ThreadPoolExecutor(4) as writers:
        outcomes = list(writers.map(lambda b: ingest(db, OUTBOX, b), batches))
    assert sum(o.receipt.accepted for o in outcomes) == 300
    stored, events = _counts(db)
    assert stored == 300
    assert events == sum(1 for o in outcomes if o.message is not None)
