"""Ingestion: store transactions once, idempotently on ``transaction_id``.

A repeat with the same body is answered with the original outcome (``duplicate``, with the
first ``ingested_at``) and writes nothing; a repeat with a different body is a conflict,
and a batch that contains one writes nothing at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts.problems import FieldError
from contracts.transactions import IngestedTransaction, IngestReceipt, Transaction
from legacy_monolith.clock import as_utc, utcnow
from legacy_monolith.db import Database
from legacy_monolith.errors import Conflict
from legacy_monolith.schema import TransactionRow


def canonical_payload(tx: Transaction) -> str:
    """The exact JSON a transaction was accepted with, keys sorted, for comparisons."""
    return json.dumps(tx.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def _unique_in_batch(transactions: list[Transaction]) -> dict[str, Transaction]:
    unique: dict[str, Transaction] = {}
    conflicts: list[FieldError] = []
    for index, tx in enumerate(transactions):
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


def ingest(
    db: Database,
    transactions: list[Transaction],
    *,
    source: str = "api",
    within: Callable[[Session], None] | None = None,
) -> IngestReceipt:
    """Store the new transactions of a batch and describe the outcome of each.

    ``within`` runs in the same database transaction, after the rows are written (the
    legacy sync records the handled event there, so the two commit together).
    """
    unique = _unique_in_batch(transactions)
    for attempt in range(2):
        try:
            return _ingest_once(db, transactions, unique, source, within)
        except IntegrityError:
            # A concurrent request stored one of these ids first: re-read and decide again.
            if attempt == 1:
                raise
    raise AssertionError("unreachable")


def _ingest_once(
    db: Database,
    transactions: list[Transaction],
    unique: dict[str, Transaction],
    source: str,
    within: Callable[[Session], None] | None = None,
) -> IngestReceipt:
    now = utcnow()
    with db.session() as session:
        existing = {
            row.transaction_id: row
            for row in session.scalars(
                select(TransactionRow).where(TransactionRow.transaction_id.in_(list(unique)))
            )
        }
        conflicts = [
            FieldError(
                field=f"transactions[{index}]",
                message=f"{tx.transaction_id!r} was already ingested with a different body",
            )
            for index, tx in enumerate(transactions)
            if tx.transaction_id in existing
            and existing[tx.transaction_id].payload != canonical_payload(tx)
        ]
        if conflicts:
            raise Conflict(
                f"{len(conflicts)} transaction(s) conflict with stored ones; nothing was stored",
                conflicts,
            )
        new_rows = [
            TransactionRow(
                transaction_id=tx.transaction_id,
                account_id=tx.account_id,
                amount=tx.amount,
                currency=tx.currency,
                merchant_category=tx.merchant_category,
                country=tx.country,
                channel=tx.channel.value,
                occurred_at=as_utc(tx.timestamp),
                is_fraud=tx.is_fraud,
                payload=canonical_payload(tx),
                ingested_at=now,
                source=source,
            )
            for transaction_id, tx in unique.items()
            if transaction_id not in existing
        ]
        session.add_all(new_rows)
        session.flush()
        if within is not None:
            within(session)
    first_seen: set[str] = set()
    results = []
    for tx in transactions:
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
    return IngestReceipt(
        accepted=len(new_rows), duplicates=len(transactions) - len(new_rows), results=results
    )
