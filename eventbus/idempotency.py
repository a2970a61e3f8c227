"""Consumer-side idempotency: the processed ``event_id`` is stored with the work.

A consumer records each event it handled in its own database, in the same transaction as
the work; a redelivered event finds its row and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, MetaData, String, Table, insert, select
from sqlalchemy.orm import Session


def processed_events_table(metadata: MetaData, name: str = "processed_events") -> Table:
    """The table of handled events, keyed by (consumer, event_id)."""
    return Table(
        name,
        metadata,
        Column("consumer", String(64), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("event_type", String(64), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )


class ProcessedEvents:
    """Checks and records handled events inside the caller's transaction."""

    def __init__(self, table: Table, consumer: str) -> None:
        self.table = table
        self.consumer = consumer

    def seen(self, session: Session, event_id: str) -> bool:
        t = self.table
        query = select(t.c.event_id).where(t.c.consumer == self.consumer, t.c.event_id == event_id)
        return session.execute(query).first() is not None

    def seen_many(self, session: Session, event_ids: Sequence[str]) -> set[str]:
        """Which of ``event_ids`` were handled already (one query for a whole batch)."""
        t = self.table
        found: set[str] = set()
        ids = list(dict.fromkeys(event_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            query = select(t.c.event_id).where(
                t.c.consumer == self.consumer, t.c.event_id.in_(chunk)
            )
            found.update(session.scalars(query))
        return found

    def record_many(self, session: Session, events: Sequence[tuple[str, str]]) -> None:
        """Add one row per ``(event_id, event_type)`` (duplicates in ``events`` once)."""
        if not events:
            return
        now = datetime.now(UTC)
        rows = [
            {"consumer": self.consumer, "event_id": event_id, "event_type": event_type,
             "processed_at": now}
            for event_id, event_type in dict(events).items()
        ]  # fmt: skip
        session.execute(insert(self.table), rows)

    def record(self, session: Session, event_id: str, event_type: str) -> None:
        """Add the row; a concurrent duplicate fails the transaction (primary key)."""
        session.execute(
            insert(self.table).values(
                consumer=self.consumer,
                event_id=event_id,
                event_type=event_type,
                processed_at=datetime.now(UTC),
            )
        )
