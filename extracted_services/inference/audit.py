"""The service's own audit log: every decision with its inputs, output, model and time.

SQLite by default, PostgreSQL via ``DATABASE_URL``. Rows written by the service and rows
copied from the monolith by the backfill (``origin = 'monolith'``) live in one table, so a
decision made before ``/predictions`` moved stays readable after it moved. Writes of one
batch happen in one database transaction, together with whatever the ``extra`` callback
adds in the same session (the outbox rows of ``prediction_logged``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import JSON, DateTime, Float, MetaData, String, Table, func, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from contracts.predictions import Attribution, Decision, Prediction, PredictionRecord
from contracts.transactions import Transaction
from service_runtime.database import Database, insert_ignoring_conflicts


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class AuditRow(Base):
    """One decision, exactly as it was answered."""

    __tablename__ = "prediction_audit"

    prediction_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    transaction_id: Mapped[str] = mapped_column(String(64), index=True)
    transaction: Mapped[dict[str, Any]] = mapped_column(JSON)
    features: Mapped[list[Any]] = mapped_column(JSON)
    score: Mapped[float] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(8))
    model_version: Mapped[str] = mapped_column(String(32), index=True)
    explanation: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    origin: Mapped[str] = mapped_column(String(16), default="service")


_AUDIT = cast(Table, AuditRow.__table__)
T = TypeVar("T")


@dataclass(frozen=True)
class AuditEntry:
    """What the service stores (and publishes) for one decision."""

    prediction: Prediction
    transaction: Transaction
    features: list[float]
    traceparent: str | None = None

    def record(self) -> PredictionRecord:
        return PredictionRecord(**self.prediction.model_dump(), transaction=self.transaction)


def audit_row(entry: AuditEntry, origin: str = "service") -> dict[str, Any]:
    """The ``prediction_audit`` row of one decision."""
    prediction = entry.prediction
    return {
        "prediction_id": prediction.prediction_id,
        "transaction_id": prediction.transaction_id,
        "transaction": entry.transaction.model_dump(mode="json"),
        "features": entry.features,
        "score": prediction.score,
        "decision": prediction.decision.value,
        "model_version": prediction.model_version,
        "explanation": [a.model_dump() for a in prediction.explanation],
        "created_at": prediction.created_at,
        "origin": origin,
    }


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class AuditDatabase(Database):
    """The audit table on the kit's engine and sessions (``service_runtime.database``);
    one per service process."""

    def __init__(self, url: str) -> None:
        super().__init__(url, Base.metadata)

    def create_schema(self, *extra: MetaData) -> None:
        """Create the audit table (and any extra metadata, e.g. the outbox) if missing."""
        super().create_schema()
        for metadata in extra:
            metadata.create_all(self.engine)

    # -- writing --------------------------------------------------------------------------
    def store(
        self,
        entries: Sequence[AuditEntry],
        extra: Callable[[Session, Sequence[AuditEntry]], T] | None = None,
    ) -> T | None:
        """Store one batch of decisions (and ``extra``'s rows) in one transaction; returns
        what ``extra`` returned."""
        rows = [audit_row(e) for e in entries]
        with self.session() as session:
            # Core executemany on the connection: the ORM's bulk path costs several times
            # more per row.
            session.connection().execute(insert(_AUDIT), rows)
            return extra(session, entries) if extra is not None else None

    def insert_missing(self, rows: Iterable[dict[str, Any]]) -> int:
        """Insert rows whose ``prediction_id`` is not stored yet; returns how many were new."""
        values = list(rows)
        if not values:
            return 0
        statement = insert_ignoring_conflicts(_AUDIT, self.engine.dialect.name)
        with self.session() as session:
            # SQLAlchemy keeps an INSERT's row count only when asked (on PostgreSQL it
            # reported -1 without it).
            result = session.connection().execute(
                statement.values(values).execution_options(preserve_rowcount=True)
            )
            return int(result.rowcount)

    # -- reading --------------------------------------------------------------------------
    def get(self, prediction_id: str) -> PredictionRecord | None:
        with self.session() as session:
            row = session.get(AuditRow, prediction_id)
            if row is None:
                return None
            return PredictionRecord(
                prediction_id=row.prediction_id,
                transaction_id=row.transaction_id,
                score=row.score,
                decision=Decision(row.decision),
                model_version=row.model_version,
                explanation=[Attribution.model_validate(a) for a in row.explanation],
                created_at=_as_utc(row.created_at),
                transaction=Transaction.model_validate_json(json.dumps(row.transaction)),
            )

    def ids(self, origin: str | None = None) -> list[str]:
        """Every stored prediction id (optionally of one origin), sorted."""
        query = select(AuditRow.prediction_id).order_by(AuditRow.prediction_id)
        if origin is not None:
            query = query.where(AuditRow.origin == origin)
        with self.session() as session:
            return list(session.scalars(query))

    def count(self) -> int:
        with self.session() as session:
            return int(session.scalar(select(func.count()).select_from(AuditRow)) or 0)
