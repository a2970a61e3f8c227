"""The Trainer's bookkeeping with a fake job and a fake registry (MLflow lies outside the
unit): idempotent ingestion, run records and their outbox events, the promotion policy in
action, roll-back, and drift alarms through the gate."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from contracts.events.models import DriftDetected, ShadowScored, TransactionsIngested
from contracts.monitoring import FeatureDrift
from contracts.registry import (
    DataWindow,
    HoldoutEvaluation,
    ModelMetrics,
    ModelVersion,
    RunStatus,
    TrainingRunRequest,
)
from datagen import generate
from extracted_services.training.errors import NotEnoughData, NotFound
from extracted_services.training.job import Job, JobResult
from extracted_services.training.reference import SCORE, build_reference
from extracted_services.training.runs import Trainer
from extracted_services.training.settings import Settings
from extracted_services.training.store import Database, count_transactions, training_runs

WINDOW = DataWindow(
    start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2026, 1, 2, tzinfo=UTC), rows=1
)


def _metrics(auc: float) -> ModelMetrics:
    return ModelMetrics(
        roc_auc=auc, pr_auc=0.5, brier=0.02, train_rows=800, holdout_rows=200, fraud_rate=0.02
    )


class FakeRegistry:
    def __init__(self) -> None:
        self.versions: dict[str, ModelMetrics] = {}
        self.champion: str | None = None
        self.previous: str | None = None

    def add(self, auc: float) -> str:
        version = str(len(self.versions) + 1)
        self.versions[version] = _metrics(auc)
        return version

    def alias_version(self, alias: str) -> str | None:
        return self.champion if alias == "champion" else None

    def metrics_of(self, version: str) -> ModelMetrics | None:
        return self.versions.get(version)

    def get(self, version: str) -> ModelVersion:
        if version not in self.versions:
            raise NotFound(f"model version {version!r} does not exist")
        return ModelVersion(
            version=version,
            created_at=datetime.now(UTC),
            training_run_id=None,
            feature_spec_version="1",
            metrics=self.versions[version],
            data_window=WINDOW,
            is_current=version == self.champion,
            promoted_at=datetime.now(UTC),
        )

    def promote(self, version: str) -> tuple[ModelVersion, str | None]:
        self.get(version)
        previous, self.champion = self.champion, version
        if previous not in (None, version):
            self.previous = previous
        return self.get(version), previous


class FakeJobs:
    """Registers a version with the next AUC in ``aucs`` (or fails with ``error``)."""

    def __init__(self, registry: FakeRegistry) -> None:
        self.registry = registry
        self.aucs: list[float] = []
        self.error: str | None = None
        self.sufficient = True
        self.jobs: list[Job] = []

    def __call__(self, job: Job, timeout_s: float) -> JobResult:
        self.jobs.append(job)
        if self.error is not None:
            return JobResult(error=self.error)
        auc = self.aucs.pop(0)
        rng = np.random.default_rng(0)
        champion = self.registry.champion
        champion_auc = self.registry.versions[champion].roc_auc if champion else None
        # The fake hold-out scores the champion at its recorded figure.
        evaluation = HoldoutEvaluation(
            rows=400,
            positives=30,
            sufficient=self.sufficient,
            challenger_roc_auc=auc,
            champion_version=champion,
            champion_roc_auc=champion_auc,
            summary=f"ROC AUC {auc} vs {champion_auc}",
        )
        return JobResult(
            model_version=self.registry.add(auc),
            mlflow_run_id="r",
            metrics=_metrics(auc),
            data_window=WINDOW,
            reference=build_reference(
                rng.normal(size=(300, 13)).astype(np.float32), rng.random(300).astype(np.float32)
            ),
            evaluation=evaluation,
        )


@contextmanager
def trainer_on(database_url: str) -> Iterator[tuple[Trainer, FakeRegistry, FakeJobs]]:
    """A Trainer on a fresh store at ``database_url`` (also run on PostgreSQL, by
    ``tests/integration/extracted_services/training/test_training_store.py``)."""
    settings = Settings(
        database_url=database_url,
        min_rows=100,
        promotion_margin=0.01,
        retrain_cooldown_s=3600,
    )
    db = Database(settings.database_url)
    db.create_schema()
    registry = FakeRegistry()
    jobs = FakeJobs(registry)
    trainer = Trainer(settings, db, registry, job_runner=jobs)  # type: ignore[arg-type]
    try:
        yield trainer, registry, jobs
    finally:
        db.dispose()


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[tuple[Trainer, FakeRegistry, FakeJobs]]:
    with trainer_on(f"sqlite:///{tmp_path / 'training.db'}") as trainer:
        yield trainer


def _ingest(trainer: Trainer, n: int = 300, seed: int = 1) -> TransactionsIngested:
    event = TransactionsIngested(ingested_at=datetime.now(UTC), transactions=generate(n, seed=seed))
    trainer.ingest(event)
    return event


def _outbox(trainer: Trainer) -> list[dict[str, Any]]:
    with trainer.db.session() as session:
        return [json.loads(p.message.body) for p in trainer.db.outbox.pending(session, 100)]


def _drift() -> DriftDetected:
    feature = FeatureDrift(
        feature="amount_log",
        psi=0.5,
        ks_statistic=0.3,
        ks_pvalue=0.0,
        reference_mean=3.0,
        window_mean=4.0,
        drifted=True,
    )
    return DriftDetected(
        model_version="1",
        window_size=500,
        drifted_features=["amount_log"],
        features=[feature],
        detected_at=datetime.now(UTC),
    )


def test_ingestion_is_idempotent_per_event_and_per_transaction(parts: Any) -> None:
    trainer, _, _ = parts
    event = _ingest(trainer, 150)
    assert trainer.ingest(event) == 0  # the same event redelivered
    overlapping = TransactionsIngested(
        ingested_at=datetime.now(UTC), transactions=generate(150, seed=1)[:50]
    )
    assert trainer.ingest(overlapping) == 0  # new event, ids already stored
    with trainer.db.session() as session:
        assert count_transactions(session) == 150
    stored = trainer.metrics.registry.get_sample_value("training_transactions_stored_total")
    assert stored == 150
    late = TrainingRunRequest(since=datetime(2030, 1, 1, tzinfo=UTC))
    with pytest.raises(NotEnoughData, match="0 are stored"):
        trainer.submit(late, "api")  # nothing in that window


def _shadow(version: str, champion: str, **overrides: Any) -> ShadowScored:
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "model_version": version,
        "champion_version": champion,
        "instance": "host-1",
        "outcome": "completed",
        "rows": 200,
        "agreement": 0.9,
        "challenger_decline_rate": 0.05,
        "champion_decline_rate": 0.01,
        "challenger_mean_score": 0.1,
        "champion_mean_score": 0.05,
        "errors": 0,
        "started_at": now,
        "finished_at": now,
    }
    return ShadowScored.model_validate({**values, **overrides})


def test_a_run_is_recorded_published_and_promoted_by_policy_after_shadow(parts: Any) -> None:
    trainer, registry, jobs = parts
    _ingest(trainer)
    jobs.aucs = [0.90, 0.905, 0.95]
    first = trainer.execute(trainer.submit(TrainingRunRequest(epochs=2), "api").run_id)
    assert first.status is RunStatus.SUCCEEDED and first.model_version == "1"
    assert registry.champion == "1"  # nothing served: promoted
    second = trainer.execute(trainer.submit(TrainingRunRequest(), "api").run_id)
    assert second.model_version == "2" and registry.champion == "1"  # +0.005 < margin
    assert second.promotion and "stays challenger" in second.promotion
    third = trainer.execute(trainer.submit(TrainingRunRequest(), "api").run_id)
    assert third.model_version == "3" and registry.champion == "1"  # proposed, not promoted
    assert third.evaluation is not None and third.evaluation.champion_version == "1"
    assert third.promotion and "shadow scoring" in third.promotion
    assert trainer.handle_shadow(_shadow("3", "1")) == "promoted"
    assert registry.champion == "3"
    assert "promoted: shadow scored 200" in (trainer.get(third.run_id).promotion or "")
    events = _outbox(trainer)
    kinds = [(e["event_type"], e.get("model_version")) for e in events]
    assert kinds == [
        ("training_completed", "1"),
        ("model_promoted", "1"),
        ("training_completed", "2"),
        ("training_completed", "3"),
        ("challenger_proposed", "3"),
        ("model_promoted", "3"),
    ]
    completed = events[0]
    assert completed["status"] == "succeeded" and completed["metrics"]["roc_auc"] == 0.9
    assert [r["feature"] for r in completed["reference"]][-1] == SCORE
    assert events[3]["evaluation"]["challenger_roc_auc"] == 0.95
    proposal = events[4]
    assert (proposal["champion_version"], proposal["rows"]) == ("1", 200)
    assert events[5]["previous_version"] == "1"
    assert events[5]["model_uri"] == "models:/risk-scorer/3"
    assert jobs.jobs[0].params.epochs == 2 and jobs.jobs[0].trigger == "api"
    assert trainer.handle_shadow(_shadow("3", "1")) is None  # decided already


def test_a_proposal_whose_shadow_scoring_fails_or_is_overtaken_never_serves(parts: Any) -> None:
    trainer, registry, jobs = parts
    _ingest(trainer)
    jobs.aucs = [0.90, 0.95, 0.96]
    for _ in range(2):
        trainer.execute(trainer.submit(TrainingRunRequest(), "api").run_id)
    assert registry.champion == "1"
    assert trainer.handle_shadow(_shadow("2", "1", rows=50)) is None  # too few: wait
    assert trainer.handle_shadow(_shadow("2", "1", challenger_decline_rate=0.7)) == "rejected"
    assert registry.champion == "1"
    trainer.execute(trainer.submit(TrainingRunRequest(), "api").run_id)  # v3 proposed
    trainer.promote("1")  # a person acts meanwhile (same champion; nothing moves) ...
    registry.champion = "2"  # ... or the champion moves under the proposal
    assert trainer.handle_shadow(_shadow("3", "1")) == "superseded"
    assert registry.champion == "2"


def test_an_insufficient_hold_out_never_promotes(parts: Any) -> None:
    trainer, registry, jobs = parts
    _ingest(trainer)
    jobs.aucs = [0.90, 0.99]
    trainer.execute(trainer.submit(TrainingRunRequest(), "api").run_id)
    jobs.sufficient = False
    run = trainer.execute(trainer.submit(TrainingRunRequest(), "api").run_id)
    assert registry.champion == "1" and "not promoted" in (run.promotion or "")
    assert not [e for e in _outbox(trainer) if e["event_type"] == "challenger_proposed"]


def test_promoting_an_older_version_is_a_rollback(parts: Any) -> None:
    trainer, registry, jobs = parts
    _ingest(trainer)
    jobs.aucs = [0.90, 0.95]
    for _ in range(2):
        trainer.execute(trainer.submit(TrainingRunRequest(), "api").run_id)
    assert trainer.handle_shadow(_shadow("2", "1")) == "promoted"
    assert registry.champion == "2"
    trainer.promote("1")
    assert registry.champion == "1" and registry.previous == "2"
    last = _outbox(trainer)[-1]
    assert last["event_type"] == "model_promoted"
    assert (last["reason"], last["model_version"], last["previous_version"]) == (
        "rollback",
        "1",
        "2",
    )
    with pytest.raises(NotFound):
        trainer.promote("9")


def test_a_failed_run_is_recorded_and_published_and_nothing_moves(parts: Any) -> None:
    trainer, registry, jobs = parts
    _ingest(trainer)
    jobs.error = "training needs at least 100 labelled transactions; 3 are stored"
    run = trainer.execute(trainer.submit(TrainingRunRequest(), "api").run_id)
    assert run.status is RunStatus.FAILED and run.error == jobs.error
    (event,) = _outbox(trainer)
    assert event["status"] == "failed" and event["model_version"] is None
    assert registry.champion is None


def test_drift_starts_one_retraining_run_then_cools_down(parts: Any) -> None:
    trainer, registry, jobs = parts
    _ingest(trainer)
    jobs.aucs = [0.9]
    alarm = _drift()
    run_id = trainer.handle_drift(alarm)
    assert run_id is not None
    assert trainer.handle_drift(alarm) is None  # the same event again: already handled
    assert trainer.handle_drift(_drift()) is None  # a new alarm while it runs
    run = trainer.execute(run_id)
    assert run.status is RunStatus.SUCCEEDED
    assert run.params.max_rows == trainer.settings.retrain_max_rows
    assert jobs.jobs[0].trigger == "drift"
    assert trainer.handle_drift(_drift()) is None  # finished, but cooling down
    assert registry.champion == "1"


def test_the_run_in_progress_and_the_cool_down_survive_a_restart(parts: Any) -> None:
    """A worker restarted while its drift run waits neither starts a second run beside the
    resumed one nor forgets the cool-down once that run finished."""
    trainer, registry, jobs = parts
    _ingest(trainer)
    jobs.aucs = [0.9]
    run_id = trainer.handle_drift(_drift())
    assert run_id is not None

    restarted = Trainer(trainer.settings, trainer.db, registry, job_runner=jobs)  # type: ignore[arg-type]
    restarted.restore_state()
    assert restarted.handle_drift(_drift()) is None  # the unfinished run holds the gate
    assert restarted.execute(run_id).status is RunStatus.SUCCEEDED
    assert restarted.handle_drift(_drift()) is None  # finished, and still cooling down

    again = Trainer(trainer.settings, trainer.db, registry, job_runner=jobs)  # type: ignore[arg-type]
    again.restore_state()
    assert again.handle_drift(_drift()) is None  # the cool-down counts from the stored run
    assert "cooling down" in again.gate.try_start(trainer.settings.model_name)[1]
    with trainer.db.session() as session:
        drift_runs = session.execute(
            select(training_runs.c.run_id).where(training_runs.c.trigger == "drift")
        ).all()
    assert len(drift_runs) == 1


def test_a_drift_run_that_does_not_beat_the_champion_is_tried_again_later(parts: Any) -> None:
    trainer, registry, jobs = parts
    trainer.settings = trainer.settings.model_copy(
        update={"retrain_retry_s": 0.05, "retrain_max_attempts": 2}
    )
    _ingest(trainer)
    jobs.aucs = [0.90, 0.85, 0.86]
    trainer.execute(trainer.submit(TrainingRunRequest(), "api").run_id)  # v1 serves
    first = trainer.handle_drift(_drift())
    assert first is not None
    assert "stays challenger" in (trainer.execute(first).promotion or "")

    def queued() -> list[Any]:
        with trainer.db.session() as session:
            return list(
                session.execute(
                    select(training_runs.c.run_id, training_runs.c.attempt).where(
                        training_runs.c.status == "queued"
                    )
                )
            )

    deadline = time.monotonic() + 5
    while not queued() and time.monotonic() < deadline:
        time.sleep(0.02)
    ((retry_id, attempt),) = queued()  # the second attempt, despite the cool-down
    assert attempt == 2
    trainer.execute(retry_id)
    time.sleep(0.3)
    assert queued() == []  # the last attempt: no third one
    assert registry.champion == "1"


def test_unknown_run_is_not_found(parts: Any) -> None:
    trainer, _, _ = parts
    with pytest.raises(NotFound):
        trainer.get("nope")
