"""Reconciliation of two transaction stores: the phase-2 gate's "no event lost" check.

Compares the ingestion service's store with the monolith's: row counts, a checksum over
``(transaction_id, amount)`` of each side, and the ids missing on either side or stored
with different amounts. It reads each store's ``transactions`` through its data contract
(``contracts.stores``) and its configured URL, so it works on any deployment (SQLite or
PostgreSQL) without importing the services.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Table, select

from contracts.stores import ingestion as ingestion_store
from contracts.stores import monolith as monolith_store
from migration_playbook.datamoves.stores import redact, store_engine

Direction = Literal["both", "ingestion-in-monolith"]
_SAMPLE = 50


@dataclass(frozen=True)
class StoreSummary:
    url: str
    count: int
    checksum: str


@dataclass
class ReconcileReport:
    """The outcome; ``ok`` only when nothing differs (in the chosen direction)."""

    ingestion: StoreSummary
    monolith: StoreSummary
    direction: Direction
    missing_in_monolith: list[str] = field(default_factory=list)
    missing_in_ingestion: list[str] = field(default_factory=list)
    amount_mismatches: list[str] = field(default_factory=list)
    missing_in_monolith_count: int = 0
    missing_in_ingestion_count: int = 0
    amount_mismatch_count: int = 0

    @property
    def ok(self) -> bool:
        lost = self.missing_in_monolith_count + self.amount_mismatch_count
        if self.direction == "ingestion-in-monolith":
            return lost == 0
        return lost == 0 and self.missing_in_ingestion_count == 0 and self.checksums_match

    @property
    def checksums_match(self) -> bool:
        return self.ingestion.checksum == self.monolith.checksum

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        out["checksums_match"] = self.checksums_match
        return out


def _cents(amount: Any) -> int:
    return int(round(float(amount) * 100))


def read_store(url: str, table: Table, since: datetime | None = None) -> dict[str, int]:
    """``transaction_id -> amount in cents`` of one store's transactions table."""
    query = select(table.c.transaction_id, table.c.amount)
    if since is not None:
        query = query.where(table.c.ingested_at >= since)
    with store_engine(url) as engine, engine.connect() as connection:
        return {str(tid): _cents(amount) for tid, amount in connection.execute(query)}


def checksum(rows: dict[str, int]) -> str:
    """SHA-256 over ``id:cents`` lines in id order: equal iff the sets are equal."""
    digest = hashlib.sha256()
    for tid in sorted(rows):
        digest.update(f"{tid}:{rows[tid]}\n".encode())
    return digest.hexdigest()


def reconcile(
    ingestion: dict[str, int],
    monolith: dict[str, int],
    *,
    ingestion_url: str = "",
    monolith_url: str = "",
    direction: Direction = "both",
) -> ReconcileReport:
    """Compare two id->cents maps."""
    missing_mono = sorted(set(ingestion) - set(monolith))
    missing_ing = sorted(set(monolith) - set(ingestion))
    mismatched = sorted(t for t in set(ingestion) & set(monolith) if ingestion[t] != monolith[t])
    return ReconcileReport(
        ingestion=StoreSummary(redact(ingestion_url), len(ingestion), checksum(ingestion)),
        monolith=StoreSummary(redact(monolith_url), len(monolith), checksum(monolith)),
        direction=direction,
        missing_in_monolith=missing_mono[:_SAMPLE],
        missing_in_ingestion=missing_ing[:_SAMPLE],
        amount_mismatches=mismatched[:_SAMPLE],
        missing_in_monolith_count=len(missing_mono),
        missing_in_ingestion_count=len(missing_ing),
        amount_mismatch_count=len(mismatched),
    )


def reconcile_ingestion(
    ingestion_url: str,
    monolith_url: str,
    *,
    direction: Direction = "both",
    since: datetime | None = None,
) -> ReconcileReport:
    """Read both stores and compare them.

    ``direction="both"`` (the default) demands identical stores. During coexistence the
    monolith also holds what it ingested before the route moved; then
    ``"ingestion-in-monolith"`` checks that everything ingestion accepted reached the
    monolith with the same amount (nothing lost), and reports the rest for information.
    """
    return reconcile(
        read_store(ingestion_url, ingestion_store.transactions, since),
        read_store(monolith_url, monolith_store.transactions, since),
        ingestion_url=ingestion_url,
        monolith_url=monolith_url,
        direction=direction,
    )
