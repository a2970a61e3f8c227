"""The monitoring service's own database: the prediction log it windows over, the training
reference of each model version, and the outbox of its ``drift_detected`` events.

A prediction is stored once (its ``prediction_id`` is unique), which makes the
``prediction_logged`` consumer idempotent without a per-event bookkeeping row; a reference
is stored once per model version (the last ``training_completed`` wins).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from eventbus import Outbox, ProcessedEvents, outbox_table, processed_events_table

metadata = MetaData()

predictions = Table(
    "predictions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("prediction_id", String(64), nullable=False, unique=True),
    Column("model_version", String(32), nullable=False, index=True),
    Column("score", Float, nullable=False),
    Column("features", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

references = Table(
    "references",
    metadata,
    Column("model_version", String(32), primary_key=True),
    Column("run_id", String(64), nullable=False),
    Column("feature_spec_version", String(16), nullable=False),
    Column("samples", JSON, nullable=False),  # feature name -> sample values
    Column("received_at", DateTime(timezone=True), nullable=False),
)

processed = processed_events_table(metadata)
outbox_rows = outbox_table(metadata)


def as_utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class Database:
    """Engine, sessions and the schema of the monitoring store."""

    def __init__(self, url: str) -> None:
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                url = "postgresql+psycopg://" + url[len(prefix) :]
        self.is_sqlite = url.startswith("sqlite")
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        connect_args: dict[str, Any] = {"check_same_thread": False} if self.is_sqlite else {}
        self.engine: Engine = create_engine(url, connect_args=connect_args)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.outbox = Outbox(outbox_rows)
        self.processed = ProcessedEvents(processed, consumer="monitoring")

    def create_schema(self) -> None:
        metadata.create_all(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def ignore_duplicates(session: Session, table: Table) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for this session's database."""
    insert_fn = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    return insert_fn(table).on_conflict_do_nothing()


def stored_prediction_ids(session: Session, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are in the log already (indexed look-ups, 500 at a time)."""
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        query = select(predictions.c.prediction_id).where(predictions.c.prediction_id.in_(chunk))
        found.update(session.scalars(query))
    return found


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
