"""The inference audit store on SQLite and on PostgreSQL: a batch of decisions and its
outbox rows commit together (or not at all), a decision reads back exactly as answered,
and the backfill's insert skips the ids already stored."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import MetaData
from sqlalchemy.orm import Session

from contracts.predictions import Attribution, Decision, Prediction
from datagen import generate
from eventbus import Outbox, encode, outbox_table
from extracted_services.inference.audit import AuditDatabase, AuditEntry, audit_row
from extracted_services.inference.messaging import prediction_logged
from tests.postgres_support import BACKENDS, fresh_database

OUTBOX_METADATA = MetaData()
OUTBOX = Outbox(outbox_table(OUTBOX_METADATA))


@pytest.fixture(params=BACKENDS)
def audit(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditDatabase]:
    with fresh_database(request.param, tmp_path, "audit") as url:
        db = AuditDatabase(url)
        db.create_schema(OUTBOX_METADATA)
        try:
            yield db
        finally:
            db.dispose()


def _entries(n: int, seed: int) -> list[AuditEntry]:
    return [
        AuditEntry(
            prediction=Prediction(
                prediction_id=str(uuid.uuid4()),
                transaction_id=tx.transaction_id,
                score=0.125,
                decision=Decision("approve"),
                model_version="3",
                explanation=[Attribution(feature="amount_log", value=4.5, attribution=-0.25)],
                created_at=datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC),
            ),
            transaction=tx,
            features=[0.5] * 13,
        )
        for tx in generate(n, seed=seed)
    ]


def _stage(session: Session, entries: Sequence[AuditEntry]) -> int:
    messages = [encode(event) for event in prediction_logged(entries)]
    OUTBOX.add_many(session, messages)
    return len(messages)


def test_a_batch_and_its_events_commit_together(audit: AuditDatabase) -> None:
    entries = _entries(5, seed=1)
    assert audit.store(entries, _stage) == 1
    with audit.session() as session:
        assert len(OUTBOX.pending(session, 10)) == 1
    record = audit.get(entries[0].prediction.prediction_id)
    assert record is not None and record == entries[0].record()
    assert record.created_at.tzinfo is not None

    def failing(session: Session, batch: Sequence[AuditEntry]) -> None:
        _stage(session, batch)
        raise RuntimeError("the outbox write failed")

    with pytest.raises(RuntimeError):
        audit.store(_entries(3, seed=2), failing)
    assert audit.count() == 5  # nothing of the failed batch, audit rows included
    with audit.session() as session:
        assert len(OUTBOX.pending(session, 10)) == 1


def test_the_backfill_insert_skips_what_is_stored(audit: AuditDatabase) -> None:
    stored = _entries(4, seed=3)
    audit.store(stored)
    rows = [audit_row(e, "monolith") for e in [*stored[:2], *_entries(3, seed=4)]]
    assert audit.insert_missing(rows) == 3
    assert audit.insert_missing(rows) == 0
    assert audit.count() == 7
    assert len(audit.ids(origin="monolith")) == 3
    assert audit.ids() == sorted(audit.ids())
    assert audit.get("no-such-id") is None
