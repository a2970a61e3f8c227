"""Ingestion's rule: store each transaction once, idempotently on ``transaction_id``, and
commit the ``transactions_ingested`` event with the rows (the outbox).

The same rules as the monolith's (the API contract says so): a repeat with the same body
is a ``duplicate`` with the first ``ingested_at`` and writes nothing; a repeat with a
different body is a 409, and a batch that contains one writes nothing at all. The event
carries only the transactions this request stored. A dry run (``contracts.dry_run``)
decides the same way and answers the same receipt, but stores nothing and commits no
event: it only reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from contracts.problems import FieldError
from contracts.transactions import IngestedTransaction, IngestReceipt, Transaction
from eventbus import Outbox, OutgoingMessage
from extracted_services.ingestion.db import Database, transactions
from extracted_services.ingestion.errors import Conflict
from extracted_services.ingestion.messaging import transactions_ingested_message


def canonical_payload(tx: Transaction) -> str:
    """The exact JSON a transaction was accepted with, keys sorted (as the monolith's)."""
    return json.dumps(tx.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class IngestOutcome:
    receipt: IngestReceipt
    #: The committed ``transactions_ingested`` (None when nothing new was stored).
    message: OutgoingMessage | None

    @property
    def event_id(self) -> str | None:
        return self.message.event_id if self.message is not None else None


def _unique_in_batch(batch: list[Transaction]) -> dict[str, Transaction]:
    unique: dict[str, Transaction] = {}
    conflicts: list[FieldError] = []
    for index, tx in enumerate(batch):
        seen = unique.get(tx.transaction_id)
        if seen is None:
            unique[tx.transaction_id] = tx
        elif canonical_payload(seen) != canonical_payload(tx):
            conflicts.append(
                FieldError(
                    field=f"transactions[{index}].transaction_id",
                    message=f"{tx.transaction_id!r} appears twice with different bodies",
                )
            )
    if conflicts:
        raise Conflict("the batch repeats a transaction_id with different bodies", conflicts)
    return unique


_ATTEMPTS = 5


def ingest(
    db: Database,
    outbox: Outbox,
    batch: list[Transaction],
    *,
    traceparent: str | None = None,
    dry_run: bool = False,
) -> IngestOutcome:
    """Store the new transactions and their event in one transaction; describe each.
    ``dry_run``: decide and describe the same way, store nothing (no rows, no event)."""
    unique = _unique_in_batch(batch)
    for attempt in range(_ATTEMPTS):
        try:
            return _ingest_once(db, outbox, batch, unique, traceparent, dry_run)
        except IntegrityError:
            # A concurrent request stored one of these ids first: re-read and decide again
            # (on PostgreSQL several overlapping batches can collide more than once).
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _ingest_once(
    db: Database,
    outbox: Outbox,
    batch: list[Transaction],
    unique: dict[str, Transaction],
    traceparent: str | None,
    dry_run: bool,
) -> IngestOutcome:
    now = datetime.now(UTC)
    payloads = {tid: canonical_payload(tx) for tid, tx in unique.items()}
    message: OutgoingMessage | None = None
    with db.snapshot() if dry_run else db.transaction() as session:
        existing = {
            row.transaction_id: row
            for row in session.execute(
                select(
                    transactions.c.transaction_id,
                    transactions.c.payload,
                    transactions.c.ingested_at,
                ).where(transactions.c.transaction_id.in_(list(unique)))
            )
        }
        conflicts = [
            FieldError(
                field=f"transactions[{index}]",
                message=f"{tx.transaction_id!r} was already ingested with a different body",
            )
            for index, tx in enumerate(batch)
            if tx.transaction_id in existing
            and existing[tx.transaction_id].payload != payloads[tx.transaction_id]
        ]
        if conflicts:
            raise Conflict(
                f"{len(conflicts)} transaction(s) conflict with stored ones; nothing was stored",
                conflicts,
            )
        new = [tx for tid, tx in unique.items() if tid not in existing]
        if new and not dry_run:
            session.execute(
                insert(transactions),
                [
                    {
                        "transaction_id": tx.transaction_id,
                        "account_id": tx.account_id,
                        "amount": tx.amount,
                        "currency": tx.currency,
                        "merchant_category": tx.merchant_category,
                        "country": tx.country,
                        "channel": tx.channel.value,
                        "occurred_at": as_utc(tx.timestamp),
                        "is_fraud": tx.is_fraud,
                        "payload": payloads[tx.transaction_id],
                        "ingested_at": now,
                    }
                    for tx in new
                ],
            )
            message = transactions_ingested_message(new, now, traceparent=traceparent)
            outbox.add(session, message)
    first_seen: set[str] = set()
    results = []
    for tx in batch:
        stored = existing.get(tx.transaction_id)
        is_new = stored is None and tx.transaction_id not in first_seen
        first_seen.add(tx.transaction_id)
        results.append(
            IngestedTransaction(
                transaction_id=tx.transaction_id,
                status="accepted" if is_new else "duplicate",
                ingested_at=as_utc(stored.ingested_at) if stored is not None else now,
            )
        )
    receipt = IngestReceipt(accepted=len(new), duplicates=len(batch) - len(new), results=results)
    return IngestOutcome(receipt, message)
