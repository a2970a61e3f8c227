"""The service's collaborators, wired together and started/stopped by the app's lifespan.

Three single-thread executors keep the event loop free and the work ordered: ``score``
runs forward passes (one batch at a time, ``torch.set_num_threads`` threads), ``audit``
writes audit rows and outbox rows in one transaction per group of batches (group commit:
batches that wait while a write runs go together into the next), ``model-load`` loads
and checks candidate versions without stalling scoring.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import numpy as np
from sqlalchemy.orm import Session

from contracts.events import Event
from contracts.events.models import ChallengerProposed
from eventbus import OutgoingMessage
from extracted_services.inference.audit import AuditDatabase, AuditEntry
from extracted_services.inference.batcher import MicroBatcher
from extracted_services.inference.errors import ModelRejected, NoModelServing
from extracted_services.inference.group_commit import GroupCommitter
from extracted_services.inference.hotswap import HotSwapper, ModelHolder, Refusal, SwapOutcome
from extracted_services.inference.metrics import Metrics
from extracted_services.inference.registry import RegistryLoader, ServedModel
from extracted_services.inference.scorer import ScoreJob, score_jobs
from extracted_services.inference.settings import Settings
from extracted_services.inference.shadow import ShadowRun

logger = logging.getLogger(__name__)

_INITIAL_RETRY_MAX_S = 30.0


class EventOutlet(Protocol):
    """What the runtime needs from messaging: stage events in the audit transaction, hear
    when it committed (with what was staged, to publish it from memory), and publish a
    report of its own (a shadow scoring's)."""

    def stage(self, session: Session, entries: Sequence[AuditEntry]) -> list[OutgoingMessage]: ...

    def committed(self, messages: Sequence[OutgoingMessage]) -> None: ...

    async def publish(self, event: Event) -> None: ...


class Runtime:
    """Everything one inference process owns."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.db = AuditDatabase(settings.database_url)
        self.holder = ModelHolder()
        self.loader = RegistryLoader(
            settings.mlflow_tracking_uri, settings.backend, settings.work_dir
        )
        self._score_pool = ThreadPoolExecutor(1, thread_name_prefix="score")
        self._audit_pool = ThreadPoolExecutor(1, thread_name_prefix="audit")
        self._load_pool = ThreadPoolExecutor(1, thread_name_prefix="model-load")
        self.swapper = HotSwapper(
            self.holder,
            self.loader.load,
            self._load_pool,
            on_swap=self._swapped,
            on_refuse=self._refused,
        )
        self.batcher: MicroBatcher[ScoreJob, list[AuditEntry]] = MicroBatcher(
            self._run_batch,
            self._score_pool,
            rows_of=lambda job: job.rows,
            max_batch_size=settings.max_batch_size,
            max_wait_s=settings.max_wait_ms / 1000.0,
            queue_bound=settings.queue_bound,
            enabled=settings.batching,
            complete=self._complete,
            on_batch=self.metrics.batch_rows.observe,
            on_depth=self.metrics.queue_depth.set,
        )
        self.audit_writer: GroupCommitter[AuditEntry, list[OutgoingMessage] | None] = (
            GroupCommitter(
                self._store,
                self._audit_pool,
                on_committed=self._committed,
                on_group=self.metrics.audit_group_batches.observe,
            )
        )
        self.outlet: EventOutlet | None = None
        #: Readiness of the broker side: "ok", "disabled" or why not (set by messaging).
        self.broker_status: Callable[[], str] = lambda: (
            "not connected" if settings.messaging_enabled else "disabled"
        )
        self.model_error: str | None = "loading"
        self._initial: asyncio.Task[None] | None = None
        #: A proposed version being scored beside the champion (see ``shadow.py``).
        self.shadow: ShadowRun | None = None

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        import torch

        torch.set_num_threads(self.settings.torch_threads)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._audit_pool, self.db.create_schema)
        self.batcher.start()
        self._initial = asyncio.create_task(self._load_initial(), name="initial-model")

    async def stop(self) -> None:
        if self._initial is not None:
            self._initial.cancel()
        await self.batcher.stop()
        for pool in (self._score_pool, self._audit_pool, self._load_pool):
            pool.shutdown(wait=True, cancel_futures=True)
        self.db.dispose()

    async def _load_initial(self) -> None:
        """Load the configured URI; retry while nothing serves (the registry may be late)."""
        delay = 1.0
        while self.holder.current is None:
            outcome = await self.swapper.promote(self.settings.model_uri)
            if outcome.status != "refused" or self.holder.current is not None:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, _INITIAL_RETRY_MAX_S)

    async def promote(self, uri: str, expected_version: str | None = None) -> SwapOutcome:
        """Hot-swap to ``uri`` (what a ``model_promoted`` event triggers)."""
        outcome = await self.swapper.promote(uri, expected_version)
        self.metrics.promotions.labels(outcome.status).inc()
        return outcome

    # -- hooks ----------------------------------------------------------------------------
    def _swapped(self, model: ServedModel) -> None:
        self.model_error = None
        self.metrics.model_version.clear()
        self.metrics.model_version.labels(model.name, model.version, model.backend.name).set(1)
        self.metrics.served_version.set(float(model.version))
        self.metrics.swaps.inc()

    def _refused(self, refusal: Refusal) -> None:
        self.metrics.refused.inc()
        if self.holder.current is None:
            self.model_error = f"{refusal.uri}: {refusal.reason}"

    # -- scoring --------------------------------------------------------------------------
    def _run_batch(self, jobs: list[ScoreJob]) -> list[list[AuditEntry]]:
        model = self.holder.current  # read once: the whole batch uses this one model
        if model is None:
            raise NoModelServing("no model is loaded")
        results = score_jobs(model, jobs)
        shadow = self.shadow
        if shadow is not None and not shadow.done:
            features = (
                jobs[0].features
                if len(jobs) == 1
                else np.concatenate([job.features for job in jobs])
            )
            scores = np.array([e.prediction.score for per in results for e in per])
            shadow.observe(model.version, features, scores)
        return results

    async def _complete(self, jobs: list[ScoreJob], results: list[list[AuditEntry]]) -> None:
        # A dry run is answered and leaves no trace: no audit row, no event.
        entries = [
            entry
            for job, per_job in zip(jobs, results, strict=True)
            if not job.dry_run
            for entry in per_job
        ]
        if entries:
            await self.audit_writer.write(entries)
        self.metrics.dry_runs.inc(sum(job.rows for job in jobs if job.dry_run))
        for entry in entries:
            self.metrics.predictions.labels(entry.prediction.decision.value).inc()
        shadow = self.shadow
        if shadow is not None and shadow.done and not shadow.reported:
            await self._report_shadow(shadow)

    # -- shadow scoring -------------------------------------------------------------------
    async def start_shadow(self, proposal: ChallengerProposed, instance: str) -> None:
        """Load a proposed version and score it beside the champion from the next batch."""
        serving = self.holder.current
        champion = serving.version if serving is not None else "none"
        run = ShadowRun(proposal, None, champion, instance)
        if serving is None or proposal.champion_version not in (None, serving.version):
            run.end("aborted", f"this instance serves v{champion}, not the proposal's champion")
        else:
            loop = asyncio.get_running_loop()
            try:
                run.challenger = await loop.run_in_executor(
                    self._load_pool, self.loader.load, proposal.model_uri
                )
            except ModelRejected as exc:
                run.end("failed", f"{proposal.model_uri}: {exc.reason}")
        previous, self.shadow = self.shadow, run
        if previous is not None and not previous.reported:
            previous.end("aborted", f"v{proposal.model_version} was proposed after it")
            await self._report_shadow(previous)
        if run.done:
            await self._report_shadow(run)

    async def _report_shadow(self, run: ShadowRun) -> None:
        run.reported = True
        if self.shadow is run:
            self.shadow = None
        self.metrics.shadow_runs.labels(run.outcome or "aborted").inc()
        if self.outlet is not None:
            await self.outlet.publish(run.report())

    def _store(self, entries: list[AuditEntry]) -> list[OutgoingMessage] | None:
        """One audit transaction (on the audit thread) with the staged events."""
        outlet = self.outlet
        return self.db.store(entries, outlet.stage if outlet else None)

    def _committed(self, staged: list[OutgoingMessage] | None) -> None:
        if self.outlet is not None and staged:
            self.outlet.committed(staged)
