"""The monitoring service's own database: the prediction log it windows over, the training
reference of each model version, the drift-episode state of each version, and the outbox
of its ``drift_detected`` events.

A prediction is stored once (its ``prediction_id`` is unique), which makes the
``prediction_logged`` consumer idempotent without a per-event bookkeeping row; a reference
is stored once per model version (the last ``training_completed`` wins).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
)
from sqlalchemy.orm import Session

from eventbus import Outbox, ProcessedEvents, outbox_table, processed_events_table
from service_runtime import database
from service_runtime.database import insert_ignoring_conflicts

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

#: Each model version's drift episode, written with the alarm that opens it, so that a
#: restarted worker neither raises a second alarm for an episode in progress nor forgets
#: how far one has settled. ``model_version`` "" stands for "no model".
drift_episodes = Table(
    "drift_episodes",
    metadata,
    Column("model_version", String(32), primary_key=True),
    Column("active", Boolean, nullable=False),
    Column("calm_checks", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

processed = processed_events_table(metadata)
outbox_rows = outbox_table(metadata)


def as_utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class Database(database.Database):
    """The schema of the monitoring store, its outbox and its handled events, on the kit's
    engine and sessions (``service_runtime.database``)."""

    def __init__(self, url: str) -> None:
        super().__init__(url, metadata)
        self.outbox = Outbox(outbox_rows)
        self.processed = ProcessedEvents(processed, consumer="monitoring")


def ignore_duplicates(session: Session, table: Table) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for this session's database."""
    return insert_ignoring_conflicts(table, session.get_bind().dialect.name)


def stored_prediction_ids(session: Session, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are in the log already (indexed look-ups, 500 at a time)."""
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        query = select(predictions.c.prediction_id).where(predictions.c.prediction_id.in_(chunk))
        found.update(session.scalars(query))
    return found


def load_episodes(session: Session) -> dict[str | None, tuple[bool, int, datetime | None]]:
    """Every stored episode state: version -> (active, calm checks, started at)."""
    return {
        (row.model_version or None): (
            bool(row.active),
            int(row.calm_checks),
            as_utc(row.started_at) if row.started_at is not None else None,
        )
        for row in session.execute(select(drift_episodes))
    }


def save_episode(
    session: Session,
    model_version: str | None,
    active: bool,
    calm_checks: int,
    started_at: datetime | None,
) -> None:
    """Replace one version's episode state (in the caller's transaction)."""
    key = model_version or ""
    session.execute(delete(drift_episodes).where(drift_episodes.c.model_version == key))
    session.execute(
        insert(drift_episodes).values(
            model_version=key,
            active=active,
            calm_checks=calm_checks,
            started_at=started_at,
            updated_at=datetime.now(UTC),
        )
    )
