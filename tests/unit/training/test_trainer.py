"""The Trainer's bookkeeping with a fake job and a fake registry (MLflow lies outside the
unit): idempotent ingestion, run records and their outbox events, the promotion policy in
action, roll-back, and drift alarms through the gate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from contracts.datagen import generate
from contracts.events.models import DriftDetected, TransactionsIngested
from contracts.monitoring import FeatureDrift
from contracts.registry import (
    DataWindow,
    ModelMetrics,
    ModelVersion,
    RunStatus,
    TrainingRunRequest,
)
from extracted_services.training.errors import NotEnoughData, NotFound
from extracted_services.training.job import Job, JobResult
from extracted_services.training.reference import SCORE, build_reference
from extracted_services.training.runs import Trainer
from extracted_services.training.settings import Settings
from extracted_services.training.store import Database, count_transactions

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
        self.jobs: list[Job] = []

    def __call__(self, job: Job, timeout_s: float) -> JobResult:
        self.jobs.append(job)
        if self.error is not None:
            return JobResult(error=self.error)
        auc = self.aucs.pop(0)
        rng = np.random.default_rng(0)
        return JobResult(
            model_version=self.registry.add(auc),
            mlflow_run_id="r",
            metrics=_metrics(auc),
            data_window=WINDOW,
            reference=build_reference(
                rng.normal(size=(300, 13)).astype(np.float32), rng.random(300).astype(np.float32)
            ),
        )


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[tuple[Trainer, FakeRegistry, FakeJobs]]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'training.db'}",
        min_rows=100,
        promotion_margin=0.01,
        retrain_cooldown_s=3600,
    )
    db = Database(settings.database_url)
    db.create_schema()
    registry = FakeRegistry()
    jobs = FakeJobs(registry)
    trainer = Trainer(settings, db, registry, job_runner=jobs)  # type: ignore[arg-type]
    yield trainer, registry, jobs
    db.dispose()


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
    assert trainer.metrics.transactions._value.get() == 150
    late = TrainingRunRequest(since=datetime(2030, 1, 1, tzinfo=UTC))
    with pytest.raises(NotEnoughData, match="0 are stored"):
        trainer.submit(late, "api")  # nothing in that window


def test_a_run_is_recorded_published_and_promoted_by_policy(parts: Any) -> None:
    trainer, registry, jobs = parts
    _ingest(trainer)
    jobs.aucs = [0.90, 0.905, 0.95]
    first = trainer.execute(trainer.submit(TrainingRunRequest(epochs=2), "api").run_id)
    assert first.status is RunStatus.SUCCEEDED and first.model_version == "1"
    assert registry.champion == "1"  # nothing served: promoted
    second = trainer.execute(trainer.submit(TrainingRunRequest(), "api").run_id)
    assert second.model_version == "2" and registry.champion == "1"  # +0.005 < margin
    third = trainer.execute(trainer.submit(TrainingRunRequest(), "api").run_id)
    assert third.model_version == "3" and registry.champion == "3"
    events = _outbox(trainer)
    kinds = [(e["event_type"], e.get("model_version")) for e in events]
    assert kinds == [
        ("training_completed", "1"),
        ("model_promoted", "1"),
        ("training_completed", "2"),
        ("training_completed", "3"),
        ("model_promoted", "3"),
    ]
    completed = events[0]
    assert completed["status"] == "succeeded" and completed["metrics"]["roc_auc"] == 0.9
    assert [r["feature"] for r in completed["reference"]][-1] == SCORE
    assert events[4]["previous_version"] == "1"
    assert events[4]["model_uri"] == "models:/risk-scorer/3"
    assert jobs.jobs[0].params.epochs == 2 and jobs.jobs[0].trigger == "api"


def test_promoting_an_older_version_is_a_rollback(parts: Any) -> None:
    trainer, registry, jobs = parts
    _ingest(trainer)
    jobs.aucs = [0.90, 0.95]
    for _ in range(2):
        trainer.execute(trainer.submit(TrainingRunRequest(), "api").run_id)
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


def test_unknown_run_is_not_found(parts: Any) -> None:
    trainer, _, _ = parts
    with pytest.raises(NotFound):
        trainer.get("nope")
