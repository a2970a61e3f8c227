"""Training runs: accepted, queued, executed one at a time, recorded, and their events.

Written against plain ``threading``/``queue``/``subprocess``: in the nameko worker eventlet
has monkey-patched them into green threads and a cooperative child process, and the unit
tests drive the same code without eventlet. Events go through the transactional outbox
(written in the same transaction as the run's outcome) and a relay thread publishes them
with publisher confirms, so an outcome is never recorded without its event.
"""

from __future__ import annotations

import logging
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from contracts.events.models import (
    DriftDetected,
    ModelPromoted,
    TrainingCompleted,
    TransactionsIngested,
)
from contracts.features import FEATURE_SPEC_VERSION
from contracts.messaging import SyncPublisher, encode
from contracts.messaging.relay_sync import SyncOutboxRelay
from contracts.registry import (
    ModelMetrics,
    ModelVersion,
    RunStatus,
    TrainingRun,
    TrainingRunRequest,
)
from extracted_services.training.errors import NotEnoughData, NotFound
from extracted_services.training.job import Job, JobResult
from extracted_services.training.metrics import Metrics
from extracted_services.training.policy import RetrainGate, decide_promotion
from extracted_services.training.registry import CHAMPION, Registry
from extracted_services.training.settings import Settings
from extracted_services.training.store import (
    Database,
    add_transactions,
    as_utc,
    count_transactions,
    training_runs,
)

logger = logging.getLogger(__name__)

#: Runs a job and returns its result (the child process in production; a fake in tests).
JobRunner = Callable[[Job, float], JobResult]


def run_job_in_child(job: Job, timeout_s: float) -> JobResult:
    """``python -m extracted_services.training.job`` with the job on stdin."""
    completed = subprocess.run(
        [sys.executable, "-m", "extracted_services.training.job"],
        input=job.model_dump_json().encode(),
        capture_output=True,
        timeout=timeout_s,
        check=False,
    )
    lines = completed.stdout.decode(errors="replace").strip().splitlines()
    if lines:
        try:
            return JobResult.model_validate_json(lines[-1])
        except ValueError:
            pass
    stderr = completed.stderr.decode(errors="replace").strip().splitlines()
    reason = stderr[-1] if stderr else f"exit code {completed.returncode}"
    raise RuntimeError(f"the training job failed: {reason}")


def training_completed_event(run_id: str, result: JobResult) -> TrainingCompleted:
    """The event of a finished run (a failure carries the error, no version, no reference)."""
    failed = result.error is not None
    return TrainingCompleted(
        run_id=run_id,
        status="failed" if failed else "succeeded",
        model_version=result.model_version,
        feature_spec_version=FEATURE_SPEC_VERSION,
        metrics=result.metrics,
        data_window=result.data_window,
        reference=result.reference,
        error=result.error,
    )


def model_promoted_event(
    model_name: str, promoted: ModelVersion, previous: str | None
) -> ModelPromoted:
    """The event of a promotion; promoting a version older than the previous is a rollback."""
    rollback = previous is not None and int(promoted.version) < int(previous)
    return ModelPromoted(
        model_version=promoted.version,
        previous_version=previous,
        model_uri=f"models:/{model_name}/{promoted.version}",
        feature_spec_version=promoted.feature_spec_version,
        promoted_at=promoted.promoted_at or datetime.now(UTC),
        reason="rollback" if rollback else "promotion",
    )


class Trainer:
    """The service's training logic: submit, execute, promote, publish."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        registry: Registry,
        metrics: Metrics | None = None,
        *,
        gate: RetrainGate | None = None,
        job_runner: JobRunner = run_job_in_child,
    ) -> None:
        self.settings = settings
        self.db = db
        self.registry = registry
        self.metrics = metrics or Metrics()
        self.gate = gate or RetrainGate(settings.retrain_cooldown_s)
        self._job_runner = job_runner
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self.relay: SyncOutboxRelay | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, *, relay: bool = True) -> None:
        self._resume_unfinished()
        self._threads.append(threading.Thread(target=self._work, name="training-runs", daemon=True))
        self._threads[-1].start()
        if relay:
            publisher = SyncPublisher(self.settings.amqp_uri, name="training-publisher")
            self.relay = SyncOutboxRelay(
                self.db.session,
                self.db.outbox,
                publisher,
                poll_interval_s=self.settings.relay_interval_s,
                on_published=lambda kind: self.metrics.events_published.labels(kind).inc(),
            )
            self.relay.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)
        if self.relay is not None:
            self.relay.stop(timeout)

    def _wake(self) -> None:
        if self.relay is not None:
            self.relay.wake()

    def _resume_unfinished(self) -> None:
        """A run that was queued or running when the worker stopped is run again."""
        with self.db.session() as session:
            ids = session.scalars(
                select(training_runs.c.run_id)
                .where(training_runs.c.status.in_([RunStatus.QUEUED, RunStatus.RUNNING]))
                .order_by(training_runs.c.requested_at)
            ).all()
        for run_id in ids:
            self._queue.put(run_id)

    # -- events ----------------------------------------------------------------------------
    def ingest(self, event: TransactionsIngested) -> int:
        """Store an ingested batch once; a redelivered event changes nothing."""
        return self.ingest_many([event])

    def ingest_many(self, events: Sequence[TransactionsIngested]) -> int:
        """Store several events' transactions in one transaction; returns the rows added.

        Events already handled (a redelivery, or the same event twice in the batch) are
        skipped; the handled event ids are recorded in the same transaction.
        """
        with self.db.session() as session:
            seen = self.db.processed.seen_many(session, [e.event_id for e in events])
            fresh: dict[str, TransactionsIngested] = {}
            for event in events:
                if event.event_id not in seen:
                    fresh.setdefault(event.event_id, event)
            if not fresh:
                return 0
            added = add_transactions(
                session,
                [tx for event in fresh.values() for tx in event.transactions],
                [event.ingested_at for event in fresh.values() for _ in event.transactions],
            )
            self.db.processed.record_many(
                session, [(e.event_id, e.event_type) for e in fresh.values()]
            )
        self.metrics.transactions.inc(added)
        return added

    def handle_drift(self, event: DriftDetected) -> str | None:
        """``drift_detected`` once per event id: maybe a retraining run (see :meth:`on_drift`)."""
        with self.db.session() as session:
            if self.db.processed.seen(session, event.event_id):
                return None
            self.db.processed.record(session, event.event_id, event.event_type)
        return self.on_drift(event)

    # -- API side --------------------------------------------------------------------------
    def submit(self, params: TrainingRunRequest, trigger: str = "api") -> TrainingRun:
        """Queue a run after checking there is enough labelled data for it."""
        with self.db.session() as session:
            available = count_transactions(session, params)
        if available < self.settings.min_rows:
            raise NotEnoughData(
                f"training needs at least {self.settings.min_rows} labelled transactions "
                f"in the requested window; {available} are stored"
            )
        run_id = str(uuid.uuid4())
        with self.db.session() as session:
            session.execute(
                training_runs.insert().values(
                    run_id=run_id,
                    status=RunStatus.QUEUED.value,
                    trigger=trigger,
                    params=params.model_dump(mode="json"),
                    requested_at=datetime.now(UTC),
                )
            )
        self._queue.put(run_id)
        return self.get(run_id)

    def get(self, run_id: str) -> TrainingRun:
        with self.db.session() as session:
            row = (
                session.execute(select(training_runs).where(training_runs.c.run_id == run_id))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"training run {run_id!r} does not exist")
        return _to_contract(row)

    def on_drift(self, event: DriftDetected) -> str | None:
        """Start a retraining run on the newest data, unless one runs or cools down."""
        started, why = self.gate.try_start(self.settings.model_name)
        if not started:
            logger.info("drift_detected %s: no retraining (%s)", event.event_id, why)
            self.metrics.retrains_skipped.inc()
            return None
        params = TrainingRunRequest(
            epochs=self.settings.retrain_epochs, max_rows=self.settings.retrain_max_rows
        )
        try:
            run = self.submit(params, trigger="drift")
        except NotEnoughData as exc:
            self.gate.finish(self.settings.model_name)
            logger.warning("drift_detected %s: no retraining (%s)", event.event_id, exc.detail)
            return None
        logger.info(
            "drift_detected %s (%s): retraining run %s",
            event.event_id,
            ", ".join(event.drifted_features),
            run.run_id,
        )
        return run.run_id

    def promote(self, version: str) -> ModelVersion:
        """Serve ``version`` (an older one is a roll-back) and publish ``model_promoted``."""
        promoted, previous = self.registry.promote(version)
        event = model_promoted_event(self.settings.model_name, promoted, previous)
        with self.db.session() as session:
            self.db.outbox.add(session, encode(event))
        self._wake()
        self.metrics.promotions.labels(event.reason).inc()
        logger.info("%s: %s -> %s", event.reason, previous, promoted.version)
        return promoted

    # -- worker side -----------------------------------------------------------------------
    def _work(self) -> None:
        while (run_id := self._queue.get()) is not None:
            try:
                self.execute(run_id)
            except Exception:  # noqa: BLE001 - one failed run must not stop the worker
                logger.exception("training run %s could not be recorded", run_id)

    def execute(self, run_id: str) -> TrainingRun:
        """Run one queued run to its end: train, record, publish, promote by policy."""
        with self.db.session() as session:
            row = (
                session.execute(select(training_runs).where(training_runs.c.run_id == run_id))
                .mappings()
                .first()
            )
            if row is None or row["status"] in (RunStatus.SUCCEEDED, RunStatus.FAILED):
                return self.get(run_id)
            session.execute(
                update(training_runs)
                .where(training_runs.c.run_id == run_id)
                .values(status=RunStatus.RUNNING.value, started_at=datetime.now(UTC))
            )
        trigger = str(row["trigger"])
        params = TrainingRunRequest.model_validate(row["params"], strict=False)
        started = time.monotonic()
        try:
            result = self._job_runner(
                Job(
                    run_id=run_id,
                    trigger=trigger,
                    params=params,
                    database_url=self.settings.database_url,
                    tracking_uri=self.settings.mlflow_tracking_uri,
                    model_name=self.settings.model_name,
                    experiment=self.settings.experiment,
                    min_rows=self.settings.min_rows,
                ),
                self.settings.run_timeout_s,
            )
        except Exception as exc:  # noqa: BLE001 - recorded as the run's failure
            result = JobResult(error=f"{type(exc).__name__}: {exc}")
        finally:
            self.metrics.run_seconds.set(time.monotonic() - started)
            if trigger == "drift":
                self.gate.finish(self.settings.model_name)
        self._record(run_id, result)
        status = "failed" if result.error is not None else "succeeded"
        self.metrics.runs.labels(status, trigger).inc()
        if result.error is None and result.model_version is not None:
            self._maybe_promote(run_id, result, requested=params.promote)
        return self.get(run_id)

    def _record(self, run_id: str, result: JobResult) -> None:
        failed = result.error is not None
        event = training_completed_event(run_id, result)
        with self.db.session() as session:
            session.execute(
                update(training_runs)
                .where(training_runs.c.run_id == run_id)
                .values(
                    status=(RunStatus.FAILED if failed else RunStatus.SUCCEEDED).value,
                    finished_at=datetime.now(UTC),
                    metrics=result.metrics.model_dump() if result.metrics else None,
                    data_window=result.data_window.model_dump(mode="json")
                    if result.data_window
                    else None,
                    model_version=result.model_version,
                    mlflow_run_id=result.mlflow_run_id,
                    error=result.error,
                )
            )
            self.db.outbox.add(session, encode(event))
        self._wake()

    def _maybe_promote(self, run_id: str, result: JobResult, *, requested: bool) -> None:
        assert result.metrics is not None and result.model_version is not None
        champion = self.registry.alias_version(CHAMPION)
        champion_metrics = self.registry.metrics_of(champion) if champion else None
        decision = decide_promotion(
            self.settings.promotion_policy,
            self.settings.promotion_margin,
            result.metrics,
            champion_metrics,
            requested=requested,
        )
        with self.db.session() as session:
            session.execute(
                update(training_runs)
                .where(training_runs.c.run_id == run_id)
                .values(promotion=decision.reason)
            )
        logger.info(
            "run %s: version %s %s (%s)",
            run_id,
            result.model_version,
            "promoted" if decision.promote else "stays challenger",
            decision.reason,
        )
        if decision.promote:
            self.promote(result.model_version)


def _to_contract(row: Any) -> TrainingRun:
    return TrainingRun(
        run_id=row["run_id"],
        status=RunStatus(row["status"]),
        params=TrainingRunRequest.model_validate(row["params"], strict=False),
        requested_at=as_utc(row["requested_at"]),
        started_at=as_utc(row["started_at"]) if row["started_at"] else None,
        finished_at=as_utc(row["finished_at"]) if row["finished_at"] else None,
        metrics=ModelMetrics.model_validate(row["metrics"]) if row["metrics"] else None,
        model_version=row["model_version"],
        error=row["error"],
    )
