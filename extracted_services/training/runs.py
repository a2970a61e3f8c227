"""Training runs: accepted, queued, executed one at a time, recorded, and their events.

Written against plain ``threading``/``queue``/``subprocess``: in the nameko worker eventlet
has monkey-patched them into green threads and a cooperative child process, and the unit
tests drive the same code without eventlet. Events go through the transactional outbox
(written in the same transaction as the run's outcome) and a relay thread publishes them
with publisher confirms, so an outcome is never recorded without its event.
"""

from __future__ import annotations

import logging
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update

from contracts.events.models import (
    ChallengerProposed,
    DriftDetected,
    ModelPromoted,
    ShadowScored,
    TrainingCompleted,
    TransactionsIngested,
)
from contracts.features import FEATURE_SPEC_VERSION
from contracts.registry import (
    HoldoutEvaluation,
    ModelMetrics,
    ModelVersion,
    RunStatus,
    TrainingRun,
    TrainingRunRequest,
)
from eventbus import SyncPublisher, encode
from eventbus.relay_sync import SyncOutboxRelay
from extracted_services.training.errors import NotEnoughData, NotFound
from extracted_services.training.job import Job, JobResult
from extracted_services.training.metrics import Metrics
from extracted_services.training.policy import (
    PromotionDecision,
    RetrainGate,
    decide_promotion,
    judge_shadow,
)
from extracted_services.training.registry import CHAMPION, Registry
from extracted_services.training.settings import Settings
from extracted_services.training.store import (
    Database,
    add_transactions,
    as_utc,
    count_transactions,
    proposals,
    training_runs,
)

logger = logging.getLogger(__name__)

#: Runs a job and returns its result (the child process in production; a fake in tests).
JobRunner = Callable[[Job, float], JobResult]


def run_job_in_child(job: Job, timeout_s: float) -> JobResult:
    """``python -m extracted_services.training.job`` with the job on stdin (the child lowers
    its own priority to ``job.nice`` and caps its math threads at ``job.threads``)."""
    thread_env = {
        name: str(job.threads)
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    }
    completed = subprocess.run(
        [sys.executable, "-m", "extracted_services.training.job"],
        input=job.model_dump_json().encode(),
        capture_output=True,
        timeout=timeout_s,
        check=False,
        env={**os.environ, **thread_env},
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
        evaluation=result.evaluation,
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


def challenger_proposed_event(
    model_name: str, version: str, evaluation: HoldoutEvaluation, rows: int
) -> ChallengerProposed:
    """The proposal of a version that beat the champion on a fresh hold-out: every inference
    instance scores it beside the champion on ``rows`` live decisions, then reports."""
    return ChallengerProposed(
        model_version=version,
        model_uri=f"models:/{model_name}/{version}",
        champion_version=evaluation.champion_version,
        feature_spec_version=FEATURE_SPEC_VERSION,
        rows=rows,
        evaluation=evaluation,
        proposed_at=datetime.now(UTC),
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
        self.restore_state()
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

    def restore_state(self) -> None:
        """The retraining gate's state after a restart, from the runs table: when the last
        drift-triggered run was requested (the cool-down counts from it) and whether one is
        unfinished (resumed by :meth:`start`, so no second one may start beside it)."""
        drift = training_runs.c.trigger == "drift"
        unfinished = training_runs.c.status.in_([RunStatus.QUEUED, RunStatus.RUNNING])
        with self.db.session() as session:
            last = session.execute(
                select(func.max(training_runs.c.requested_at)).where(drift)
            ).scalar_one_or_none()
            running = session.execute(
                select(func.count()).select_from(training_runs).where(drift, unfinished)
            ).scalar_one()
        age = (datetime.now(UTC) - as_utc(last)).total_seconds() if last is not None else None
        self.gate.restore(self.settings.model_name, age_s=age, running=bool(running))

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
    def submit(
        self, params: TrainingRunRequest, trigger: str = "api", attempt: int = 1
    ) -> TrainingRun:
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
                    attempt=attempt,
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
        run_id = self._start_retraining(attempt=1)
        if run_id is not None:
            logger.info(
                "drift_detected %s (%s): retraining run %s",
                event.event_id,
                ", ".join(event.drifted_features),
                run_id,
            )
        return run_id

    def _start_retraining(self, attempt: int) -> str | None:
        """Submit a drift-triggered run (the gate is claimed); release the gate if it
        cannot start."""
        params = TrainingRunRequest(
            epochs=self.settings.retrain_epochs, max_rows=self.settings.retrain_max_rows
        )
        try:
            return self.submit(params, trigger="drift", attempt=attempt).run_id
        except NotEnoughData as exc:
            self.gate.finish(self.settings.model_name)
            logger.warning("no retraining (%s)", exc.detail)
            return None

    def _retry_retraining(self, attempt: int) -> None:
        """Another drift-triggered run, later, for the same alarm (more new traffic by
        then); skipped when another run holds the gate."""
        started, why = self.gate.try_start(self.settings.model_name, ignore_cooldown=True)
        if not started:
            logger.info("no retraining attempt %d (%s)", attempt, why)
            return
        run_id = self._start_retraining(attempt)
        if run_id is not None:
            logger.info("retraining attempt %d: run %s", attempt, run_id)

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
                    nice=self.settings.job_nice,
                    threads=self.settings.job_threads,
                    holdout_share=self.settings.holdout_share,
                    min_holdout_rows=self.settings.min_holdout_rows,
                    min_holdout_positives=self.settings.min_holdout_positives,
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
            decision = self._maybe_promote(run_id, result, requested=params.promote)
            attempt = int(row["attempt"] or 1)
            retry = decision.action in ("keep", "insufficient")
            if trigger == "drift" and retry and attempt < self.settings.retrain_max_attempts:
                logger.info(
                    "run %s (attempt %d) did not replace the champion; retraining again in %.0f s",
                    run_id,
                    attempt,
                    self.settings.retrain_retry_s,
                )
                self._later(self.settings.retrain_retry_s, self._retry_retraining, attempt + 1)
        return self.get(run_id)

    def _later(self, delay_s: float, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn`` after ``delay_s`` on a daemon timer (a green one in the worker)."""
        timer = threading.Timer(delay_s, fn, args=args)
        timer.daemon = True
        timer.start()

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
                    evaluation=result.evaluation.model_dump(mode="json")
                    if result.evaluation
                    else None,
                )
            )
            self.db.outbox.add(session, encode(event))
        self._wake()

    def _maybe_promote(
        self, run_id: str, result: JobResult, *, requested: bool
    ) -> PromotionDecision:
        if result.model_version is None:
            raise ValueError("only a run that registered a version can be promoted")
        decision = decide_promotion(
            self.settings.promotion_policy,
            self.settings.promotion_margin,
            result.evaluation,
            requested=requested,
        )
        self._note(run_id, decision.reason)
        logger.info("run %s: version %s: %s", run_id, result.model_version, decision.reason)
        if decision.action == "promote":
            self.promote(result.model_version)
        elif decision.action == "propose" and result.evaluation is not None:
            self._propose(run_id, result.model_version, result.evaluation)
        return decision

    def _note(self, run_id: str, promotion: str) -> None:
        with self.db.session() as session:
            session.execute(
                update(training_runs)
                .where(training_runs.c.run_id == run_id)
                .values(promotion=promotion)
            )

    def _propose(self, run_id: str, version: str, evaluation: HoldoutEvaluation) -> None:
        """Ask every inference instance to score ``version`` beside the champion on live
        traffic (``challenger_proposed``); :meth:`handle_shadow` decides on the report."""
        event = challenger_proposed_event(
            self.settings.model_name, version, evaluation, self.settings.shadow_rows
        )
        now = event.proposed_at
        with self.db.session() as session:
            # A newer proposal supersedes a pending one: only the latest is scored.
            session.execute(
                update(proposals)
                .where(proposals.c.state == "pending")
                .values(state="superseded", decided_at=now, reason=f"superseded by v{version}")
            )
            session.execute(
                proposals.insert().values(
                    model_version=version,
                    run_id=run_id,
                    champion_version=evaluation.champion_version,
                    proposed_at=now,
                    state="pending",
                )
            )
            self.db.outbox.add(session, encode(event))
        self._wake()
        self.metrics.proposals.labels("proposed").inc()

    def handle_shadow(self, event: ShadowScored) -> str | None:
        """A shadow-scoring report: promote the proposed version when it passes, refuse it
        when it fails; ignore reports on versions no longer pending. Returns the outcome."""
        with self.db.session() as session:
            if self.db.processed.seen(session, event.event_id):
                return None
            self.db.processed.record(session, event.event_id, event.event_type)
            proposal = (
                session.execute(
                    select(proposals).where(proposals.c.model_version == event.model_version)
                )
                .mappings()
                .first()
            )
        if proposal is None or proposal["state"] != "pending":
            logger.info("shadow_scored for v%s ignored: not pending", event.model_version)
            return None
        champion = self.registry.alias_version(CHAMPION)
        if champion != proposal["champion_version"]:
            was = proposal["champion_version"]
            reason = f"the champion moved from v{was} to v{champion} during shadow scoring"
            return self._decide(proposal, "superseded", reason)
        passed, reason = judge_shadow(
            event, self.settings.shadow_rows, self.settings.shadow_max_decline_rate
        )
        if not passed and event.outcome == "completed" and event.rows < self.settings.shadow_rows:
            logger.info("shadow_scored for v%s: %s; waiting for more", event.model_version, reason)
            return None
        outcome = self._decide(proposal, "promoted" if passed else "rejected", reason)
        if passed:
            self.promote(event.model_version)
        return outcome

    def _decide(self, proposal: Any, state: str, reason: str) -> str:
        now = datetime.now(UTC)
        with self.db.session() as session:
            session.execute(
                update(proposals)
                .where(proposals.c.model_version == proposal["model_version"])
                .values(state=state, decided_at=now, reason=reason)
            )
            run = session.execute(
                select(training_runs.c.promotion).where(
                    training_runs.c.run_id == proposal["run_id"]
                )
            ).scalar_one_or_none()
            session.execute(
                update(training_runs)
                .where(training_runs.c.run_id == proposal["run_id"])
                .values(promotion=f"{run or ''}; then {state}: {reason}".lstrip("; "))
            )
        self.metrics.proposals.labels(state).inc()
        logger.info("proposal v%s %s: %s", proposal["model_version"], state, reason)
        return state


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
        evaluation=HoldoutEvaluation.model_validate(row["evaluation"])
        if row["evaluation"]
        else None,
        promotion=row["promotion"],
    )
