"""Handling one ``transactions_ingested`` event: the monolith's ingest, once per event.

The event's transactions go through ``legacy_monolith.domain.ingest.ingest`` with
``source="sync"``, so the monolith's rules apply (a transaction it already holds with the
same body is a duplicate and writes nothing). The event id is recorded in
``processed_events`` in the same transaction as the rows; a redelivered event is
recognised and changes nothing. A transaction the monolith holds with a *different* body
is a conflict: the handler raises, the consumer retries and finally parks the event in
its dead-letter queue, where an operator sees the reason and replays it once resolved.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from contracts.events import TransactionsIngested
from eventbus import Delivery, ProcessedEvents
from legacy_monolith.db import Database
from legacy_monolith.domain.ingest import ingest
from legacy_monolith.errors import Conflict
from legacy_monolith.schema import processed_events

logger = logging.getLogger(__name__)

CONSUMER = "legacy_sync"
SOURCE = "sync"


class SyncConflict(Exception):
    """The monolith holds one of the event's transactions with another body."""


class LegacySyncHandler:
    """The consumer's handler; returns only after the monolith's database committed."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.processed = ProcessedEvents(processed_events, CONSUMER)
        self.applied = 0
        self.skipped = 0

    def __call__(self, delivery: Delivery) -> None:
        event = delivery.event
        if not isinstance(event, TransactionsIngested):
            raise TypeError(f"expected transactions_ingested, got {event.event_type}")
        self.apply(event)

    def apply(self, event: TransactionsIngested) -> bool:
        """Apply one event; ``False`` when it had been applied before."""
        if self._seen(event.event_id):
            self.skipped += 1
            return False
        try:
            ingest(
                self.db,
                list(event.transactions),
                source=SOURCE,
                within=lambda s: self.processed.record(s, event.event_id, event.event_type),
            )
        except Conflict as exc:
            details = "; ".join(e.message for e in exc.errors or [])
            raise SyncConflict(f"{exc.detail}: {details}") from exc
        except IntegrityError:
            # Another consumer instance recorded this event first: nothing left to do.
            if self._seen(event.event_id):
                self.skipped += 1
                return False
            raise
        self.applied += 1
        return True

    def _seen(self, event_id: str) -> bool:
        with self.db.session() as session:
            return self.processed.seen(session, event_id)
