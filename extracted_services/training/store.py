"""The training service's own database: the transactions it trains on, its runs, the
handled events and the outbox of the events it publishes.

SQLite by default (WAL, so a training job reads while the worker writes), PostgreSQL via
``DATABASE_URL``, both opened by ``service_runtime.database``. The schema is created at
start-up.
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
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    select,
)
from sqlalchemy.orm import Session

from contracts.registry import TrainingRunRequest
from contracts.transactions import Transaction
from eventbus import Outbox, ProcessedEvents, outbox_table, processed_events_table
from service_runtime import database
from service_runtime.database import insert_ignoring_conflicts

metadata = MetaData()

transactions = Table(
    "transactions",
    metadata,
    Column("transaction_id", String(64), primary_key=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False, index=True),
    Column("is_fraud", Boolean, nullable=True),
    Column("payload", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

training_runs = Table(
    "training_runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("params", JSON, nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("metrics", JSON, nullable=True),
    Column("data_window", JSON, nullable=True),
    Column("model_version", String(32), nullable=True),
    Column("mlflow_run_id", String(64), nullable=True),
    Column("promotion", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("evaluation", JSON, nullable=True),
    #: A drift-triggered run that did not beat the champion is tried again (bounded).
    Column("attempt", Integer, nullable=False, default=1),
)

#: Versions proposed for promotion, waiting for their shadow scoring on live traffic.
proposals = Table(
    "proposals",
    metadata,
    Column("model_version", String(32), primary_key=True),
    Column("run_id", String(64), nullable=False),
    Column("champion_version", String(32), nullable=True),
    Column("proposed_at", DateTime(timezone=True), nullable=False),
    Column("state", String(16), nullable=False),  # pending | promoted | rejected | superseded
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("reason", Text, nullable=True),
)

processed = processed_events_table(metadata)
outbox_rows = outbox_table(metadata)


def as_utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class Database(database.Database):
    """The schema of one training store, its outbox and its handled events, on the kit's
    engine and sessions."""

    def __init__(self, url: str) -> None:
        super().__init__(url, metadata)
        self.outbox = Outbox(outbox_rows)
        self.processed = ProcessedEvents(processed, consumer="training")


def add_transactions(
    session: Session,
    batch: Sequence[Transaction],
    received_at: datetime | Sequence[datetime],
) -> int:
    """Store transactions, ignoring ids already stored (a redelivery or an overlapping
    batch); ``received_at`` is one time for all or one per transaction. Returns how many
    rows were new."""
    if not batch:
        return 0
    arrivals = (
        [received_at] * len(batch) if isinstance(received_at, datetime) else list(received_at)
    )
    if len(arrivals) != len(batch):
        raise ValueError("one received_at per transaction, or one for all")
    rows: list[dict[str, Any]] = [
        {
            "transaction_id": tx.transaction_id,
            "occurred_at": tx.timestamp.astimezone(UTC),
            "is_fraud": tx.is_fraud,
            "payload": tx.model_dump_json(),
            "received_at": arrival,
        }
        for tx, arrival in zip(batch, arrivals, strict=True)
    ]
    unique = list(_first_per_key(rows, "transaction_id").items())
    stored: set[str] = set()
    for start in range(0, len(unique), 500):
        chunk = [tid for tid, _ in unique[start : start + 500]]
        query = select(transactions.c.transaction_id).where(
            transactions.c.transaction_id.in_(chunk)
        )
        stored.update(session.scalars(query))
    fresh = [row for tid, row in unique if tid not in stored]
    if fresh:
        # One executemany (compiled once); a concurrent insert of an id is ignored.
        dialect = session.get_bind().dialect.name
        session.execute(insert_ignoring_conflicts(transactions, dialect), fresh)
    return len(fresh)


def count_transactions(session: Session, params: TrainingRunRequest | None = None) -> int:
    query = select(func.count()).select_from(transactions)
    query = query.where(transactions.c.is_fraud.is_not(None))
    if params is not None:
        query = _window(query, params)
    return int(session.execute(query).scalar_one())


def _window(query: Any, params: TrainingRunRequest) -> Any:
    if params.since is not None:
        query = query.where(transactions.c.occurred_at >= params.since.astimezone(UTC))
    if params.until is not None:
        query = query.where(transactions.c.occurred_at < params.until.astimezone(UTC))
    return query


def labelled_rows(
    session: Session, params: TrainingRunRequest
) -> list[tuple[Transaction, bool, datetime]]:
    """The newest labelled transactions of the requested window (at most ``max_rows``).

    Newest by arrival (``received_at``), not by the transaction's own timestamp: after a
    drift alarm, "the newest rows" must be what arrived lately, whatever hour of the day
    the transactions carry (ordering by timestamp would pick late hours and bias the
    new model's time-of-day reference).
    """
    t = transactions
    query = _window(select(t.c.payload, t.c.is_fraud, t.c.occurred_at), params)
    query = query.where(t.c.is_fraud.is_not(None)).order_by(
        t.c.received_at.desc(), t.c.occurred_at.desc()
    )
    if params.max_rows is not None:
        query = query.limit(params.max_rows)
    return [
        (Transaction.model_validate_json(payload), bool(label), as_utc(when))
        for payload, label, when in session.execute(query)
    ]


def _first_per_key(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    """One row per ``key`` value, the first one (a repeat later in a batch is ignored)."""
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        out.setdefault(str(row[key]), row)
    return out
