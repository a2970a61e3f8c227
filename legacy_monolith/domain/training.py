"""Training runs: queued by the API, executed one at a time by a background thread.

A run reads the stored labelled transactions (optionally a time window and the newest
``max_rows``), trains the network, registers the result as a new model version with its
metrics, data window and feature-spec version, and promotes it when asked to.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid

import numpy as np
from sqlalchemy import Select, func, select

from contracts.features import transform_many
from contracts.registry import (
    DataWindow,
    ModelMetrics,
    RunStatus,
    TrainingRun,
    TrainingRunRequest,
)
from contracts.transactions import Transaction
from legacy_monolith.clock import as_utc, utcnow
from legacy_monolith.db import Database
from legacy_monolith.domain.registry import ModelRegistry
from legacy_monolith.errors import NotEnoughData, NotFound
from legacy_monolith.observability import Metrics
from legacy_monolith.schema import TrainingRunRow, TransactionRow
from riskmodel.trainer import train_model

logger = logging.getLogger(__name__)


def _labelled(params: TrainingRunRequest) -> Select[TransactionRow]:
    query = select(TransactionRow).where(TransactionRow.is_fraud.is_not(None))
    if params.since is not None:
        query = query.where(TransactionRow.occurred_at >= as_utc(params.since))
    if params.until is not None:
        query = query.where(TransactionRow.occurred_at < as_utc(params.until))
    return query


class TrainingService:
    """Accepts training requests and runs them in one background worker thread."""

    def __init__(
        self, db: Database, registry: ModelRegistry, metrics: Metrics, min_rows: int
    ) -> None:
        self._db = db
        self._registry = registry
        self._metrics = metrics
        self._min_rows = min_rows
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    # -- API side -----------------------------------------------------------------------
    def submit(self, params: TrainingRunRequest) -> TrainingRun:
        """Queue a run after checking there is enough labelled data for it."""
        with self._db.session() as session:
            available = session.scalar(
                select(func.count()).select_from(_labelled(params).subquery())
            )
        if (available or 0) < self._min_rows:
            raise NotEnoughData(
                f"training needs at least {self._min_rows} labelled transactions "
                f"in the requested window; {available or 0} are stored"
            )
        run_id = str(uuid.uuid4())
        with self._db.session() as session:
            session.add(
                TrainingRunRow(
                    run_id=run_id,
                    status=RunStatus.QUEUED.value,
                    params=params.model_dump(mode="json"),
                    requested_at=utcnow(),
                )
            )
        accepted = self.get(run_id)  # read before the worker can pick it up: the 202 says queued
        self._ensure_worker()
        self._queue.put(run_id)
        return accepted

    def get(self, run_id: str) -> TrainingRun:
        if "\x00" in run_id:  # PostgreSQL text cannot hold NUL: no such run can exist
            raise NotFound(f"training run {run_id!r} does not exist")
        with self._db.session() as session:
            row = session.get(TrainingRunRow, run_id)
            if row is None:
                raise NotFound(f"training run {run_id!r} does not exist")
            return _to_contract(row)

    # -- worker side --------------------------------------------------------------------
    def _ensure_worker(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="training", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Let the queued runs finish, then stop the worker."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)

    def _work(self) -> None:
        while (run_id := self._queue.get()) is not None:
            try:
                self._run(run_id)
            except Exception as exc:  # noqa: BLE001 - a failed run is recorded, not fatal
                logger.exception("training run %s failed", run_id)
                self._finish(run_id, RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
                self._metrics.training_runs.labels("failed").inc()

    def _run(self, run_id: str) -> None:
        with self._db.session() as session:
            row = session.get(TrainingRunRow, run_id)
            assert row is not None
            row.status = RunStatus.RUNNING.value
            row.started_at = utcnow()
            params = TrainingRunRequest.model_validate(row.params, strict=False)
        query = _labelled(params).order_by(TransactionRow.occurred_at.desc())
        if params.max_rows is not None:
            query = query.limit(params.max_rows)
        with self._db.session() as session:
            payloads = [(r.payload, r.is_fraud, r.occurred_at) for r in session.scalars(query)]
        if len(payloads) < self._min_rows:
            raise NotEnoughData(f"only {len(payloads)} labelled transactions were found")
        transactions = [Transaction.model_validate_json(p) for p, _, _ in payloads]
        labels = np.array([bool(label) for _, label, _ in payloads])
        times = [as_utc(t) for _, _, t in payloads]
        result = train_model(
            transform_many(transactions), labels, epochs=params.epochs, seed=params.seed
        )
        window = DataWindow(start=min(times), end=max(times), rows=len(payloads))
        version = self._registry.register(result, window, run_id)
        if params.promote:
            self._registry.promote(version)
            self._metrics.model_version.set(version)
        self._finish(
            run_id, RunStatus.SUCCEEDED, metrics=result.metrics.model_dump(), version=version
        )
        self._metrics.training_runs.labels("succeeded").inc()

    def _finish(
        self,
        run_id: str,
        status: RunStatus,
        *,
        metrics: dict[str, float] | None = None,
        version: int | None = None,
        error: str | None = None,
    ) -> None:
        with self._db.session() as session:
            row = session.get(TrainingRunRow, run_id)
            if row is None:
                return
            row.status = status.value
            row.finished_at = utcnow()
            row.metrics = metrics
            row.model_version = version
            row.error = error


def _to_contract(row: TrainingRunRow) -> TrainingRun:
    return TrainingRun(
        run_id=row.run_id,
        status=RunStatus(row.status),
        params=TrainingRunRequest.model_validate(row.params, strict=False),
        requested_at=as_utc(row.requested_at),
        started_at=as_utc(row.started_at) if row.started_at else None,
        finished_at=as_utc(row.finished_at) if row.finished_at else None,
        metrics=ModelMetrics.model_validate(row.metrics) if row.metrics else None,
        model_version=str(row.model_version) if row.model_version is not None else None,
        error=row.error,
    )
