"""Backfill: copy the monolith's prediction audit into the inference service's database.

After ``/predictions`` moves, a decision the monolith made must still be readable by its
id (backfilled, not a dangling 404). The copy is

- **idempotent**: rows are inserted only when their ``prediction_id`` is missing, so a
  re-run (or rows the service already has) changes nothing;
- **resumable**: it walks the monolith's rows in ``prediction_id`` order in batches and
  stores a checkpoint (the last id copied) in the service's database *in the same
  transaction* as each batch, so an interrupted run continues where it stopped;
- **reconciled**: the report compares counts and SHA-256 checksums over the sorted ids and
  over each row's answer (score, decision, model version) on both sides.

Records keep exactly what the client was answered: the monolith's integer model version
becomes the string it was in the API (``"3"``), times stay UTC. Both stores are reached
through their database URLs and read and written through their data contracts
(``contracts.stores``), never through the monolith's or the service's code.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    delete,
    inspect,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from contracts.stores.inference import MONOLITH_ORIGIN, prediction_audit
from contracts.stores.monolith import predictions
from migration_playbook.datamoves.stores import open_engine, redact

logger = logging.getLogger(__name__)

ORIGIN = MONOLITH_ORIGIN
CHECKPOINT_NAME = "monolith-predictions"
_metadata = MetaData()
checkpoints = Table(
    "backfill_checkpoints",
    _metadata,
    Column("name", String(64), primary_key=True),
    Column("last_id", String(64), nullable=False),
    Column("copied", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


class BackfillError(RuntimeError):
    """A store the backfill cannot work with (absent, or without the table it copies)."""


@dataclass(frozen=True)
class Digest:
    """Count and checksums of one side's audit records."""

    count: int
    ids_sha256: str
    answers_sha256: str


@dataclass
class BackfillReport:
    """What a run copied, and whether the two sides now agree."""

    copied: int  # rows inserted by this run
    skipped: int  # rows read that the service already had
    batches: int
    resumed_from: str | None
    complete: bool  # False when the run stopped early (max_batches)
    monolith: Digest | None = None
    service: Digest | None = None
    missing_in_service: list[str] = field(default_factory=list)
    missing_count: int = 0
    answer_mismatches: list[str] = field(default_factory=list)

    @property
    def reconciled(self) -> bool:
        return (
            self.monolith is not None
            and self.service is not None
            and self.monolith.count == self.service.count
            and self.monolith.ids_sha256 == self.service.ids_sha256
            and self.monolith.answers_sha256 == self.service.answers_sha256
            and self.missing_count == 0
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["reconciled"] = self.reconciled
        return data


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _service_row(row: Row[Any]) -> dict[str, Any]:
    return {
        "prediction_id": row.prediction_id,
        "transaction_id": row.transaction_id,
        "transaction": row.transaction,
        "features": row.features,
        "score": row.score,
        "decision": row.decision,
        "model_version": str(row.model_version),
        "explanation": row.explanation,
        "created_at": _as_utc(row.created_at),
        "origin": ORIGIN,
    }


def _digest(rows: Iterable[tuple[str, float, str, str]]) -> Digest:
    ids, answers, count = hashlib.sha256(), hashlib.sha256(), 0
    for prediction_id, score, decision, version in rows:  # sorted by id by the caller
        ids.update(prediction_id.encode() + b"\n")
        answers.update(f"{prediction_id}:{score!r}:{decision}:{version}\n".encode())
        count += 1
    return Digest(count, ids.hexdigest(), answers.hexdigest())


class AuditBackfill:
    """Copies and reconciles; one instance per (monolith DB, service DB) pair."""

    def __init__(self, monolith_url: str, service_url: str, batch_size: int = 500) -> None:
        self.monolith = open_engine(monolith_url)
        self.service = open_engine(service_url)
        self.batch_size = batch_size

    def close(self) -> None:
        self.monolith.dispose()
        self.service.dispose()

    def _checkpoint(self) -> str | None:
        with self.service.connect() as connection:
            value = connection.scalar(
                select(checkpoints.c.last_id).where(checkpoints.c.name == CHECKPOINT_NAME)
            )
            return str(value) if value is not None else None

    def run(
        self,
        *,
        max_batches: int | None = None,
        on_batch: Callable[[int, int], None] | None = None,
    ) -> BackfillReport:
        """Copy what is missing (from the checkpoint on), then reconcile when complete."""
        for engine, table, owner in (
            (self.monolith, predictions, "the monolith"),
            (self.service, prediction_audit, "the inference service"),
        ):
            if not inspect(engine).has_table(table.name):
                raise BackfillError(
                    f"{owner}'s store ({redact(str(engine.url))}) has no {table.name} table: "
                    f"start {owner} once first (it creates its schema), or check the URL"
                )
        _metadata.create_all(self.service)
        resumed_from = last = self._checkpoint()
        copied = skipped = batches = 0
        insert = pg_insert if self.service.dialect.name == "postgresql" else sqlite_insert
        complete = True
        while True:
            if max_batches is not None and batches >= max_batches:
                complete = False
                break
            with self.monolith.connect() as connection:
                query = select(predictions).order_by(predictions.c.prediction_id)
                if last is not None:
                    query = query.where(predictions.c.prediction_id > last)
                rows = [_service_row(r) for r in connection.execute(query.limit(self.batch_size))]
            if not rows:
                break
            last = rows[-1]["prediction_id"]
            with self.service.begin() as connection:
                result = connection.execute(
                    insert(prediction_audit)
                    .values(rows)
                    .on_conflict_do_nothing(index_elements=["prediction_id"]),
                    execution_options={"preserve_rowcount": True},  # else -1 on PostgreSQL
                )
                inserted = int(getattr(result, "rowcount", 0) or 0)
                now = datetime.now(UTC)
                connection.execute(
                    insert(checkpoints)
                    .values(name=CHECKPOINT_NAME, last_id=last, copied=inserted, updated_at=now)
                    .on_conflict_do_update(
                        index_elements=["name"],
                        set_={
                            "last_id": last,
                            "copied": checkpoints.c.copied + inserted,
                            "updated_at": now,
                        },
                    )
                )
            copied += inserted
            skipped += len(rows) - inserted
            batches += 1
            if on_batch is not None:
                on_batch(len(rows), inserted)
        report = BackfillReport(copied, skipped, batches, resumed_from, complete)
        if complete:
            # A finished pass forgets its checkpoint: the monolith keeps adding decisions
            # with random ids, some below the last id copied, so the next pass walks from
            # the start again (inserts are idempotent). Only an interrupted pass resumes.
            with self.service.begin() as connection:
                connection.execute(delete(checkpoints).where(checkpoints.c.name == CHECKPOINT_NAME))
            self.reconcile(report)
        logger.info("backfill: %s", report.to_dict())
        return report

    def reconcile(self, report: BackfillReport, sample: int = 20) -> BackfillReport:
        """Fill in the counts, checksums and differences of both sides."""
        p, a = predictions.c, prediction_audit.c
        with self.monolith.connect() as connection:
            source = [
                (pid, score, decision, str(version))
                for pid, score, decision, version in connection.execute(
                    select(p.prediction_id, p.score, p.decision, p.model_version).order_by(
                        p.prediction_id
                    )
                )
            ]
        with self.service.connect() as connection:
            target = [
                (pid, score, decision, version)
                for pid, score, decision, version in connection.execute(
                    select(a.prediction_id, a.score, a.decision, a.model_version)
                    .where(a.origin == ORIGIN)
                    .order_by(a.prediction_id)
                )
            ]
        report.monolith, report.service = _digest(source), _digest(target)
        target_by_id = {row[0]: row for row in target}
        missing = [row[0] for row in source if row[0] not in target_by_id]
        report.missing_count = len(missing)
        report.missing_in_service = missing[:sample]
        report.answer_mismatches = [
            row[0] for row in source if row[0] in target_by_id and target_by_id[row[0]] != row
        ][:sample]
        return report


def backfill_audit(
    monolith_url: str,
    service_url: str,
    *,
    batch_size: int = 500,
    max_batches: int | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> BackfillReport:
    """Run one backfill pass (see the module docstring)."""
    backfill = AuditBackfill(monolith_url, service_url, batch_size)
    try:
        return backfill.run(max_batches=max_batches, on_batch=on_batch)
    finally:
        backfill.close()
