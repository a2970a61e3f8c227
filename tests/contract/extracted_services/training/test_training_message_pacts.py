"""Message pacts of the training and monitoring workers, with the kit's mechanism
(``migration_playbook.gates.message_pacts``). Consumer sides are the services' real handlers on
their own databases; provider sides are their real event builders, encoded exactly as the
outbox stores them. Written to ``contracts/pacts``:

- ``training-ingestion.json``: training consumes ``transactions_ingested`` (its store);
- ``monitoring-training.json``: monitoring consumes ``training_completed`` (the reference);
- ``training-monitoring.json``: training consumes ``drift_detected`` (a retraining run);
- ``training-inference.json``: training consumes ``shadow_scored`` (promotes the proposal).

Verified without rewriting them (their consumer tests live with inference):
``inference-training.json`` (training's real ``model_promoted`` and ``challenger_proposed``
builders) and ``monitoring-inference.json`` (its recorded message fed to monitoring's real
handler).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from contracts import pacts
from contracts.events import Event, route_for
from contracts.events.models import (
    DriftDetected,
    FeatureReference,
    PredictionLogged,
    ShadowScored,
    TrainingCompleted,
    TransactionsIngested,
)
from contracts.features import FEATURE_NAMES, N_FEATURES, transform_many
from contracts.monitoring import DriftThresholds, FeatureDrift
from contracts.registry import (
    DataWindow,
    HoldoutEvaluation,
    ModelMetrics,
    ModelVersion,
    TrainingRunRequest,
)
from datagen import DriftKnob, generate
from eventbus import encode
from extracted_services.ingestion.messaging import transactions_ingested_message
from extracted_services.monitoring.detector import WindowRow, compute_report
from extracted_services.monitoring.monitor import Monitor, drift_alarm
from extracted_services.monitoring.settings import Settings as MonitoringSettings
from extracted_services.monitoring.store import Database as MonitoringDatabase
from extracted_services.monitoring.store import references
from extracted_services.training.job import Job, JobResult
from extracted_services.training.reference import build_reference
from extracted_services.training.runs import (
    Trainer,
    challenger_proposed_event,
    model_promoted_event,
    training_completed_event,
)
from extracted_services.training.settings import Settings as TrainingSettings
from extracted_services.training.store import Database as TrainingDatabase
from extracted_services.training.store import count_transactions, proposals
from migration_playbook.gates.message_pacts import record_message_pact, verify_message_pacts

EVENT_ID = "0b6f1d7e-8a55-4c31-9b8e-5c2a4f0f3a10"
AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
METRICS = ModelMetrics(
    roc_auc=0.93, pr_auc=0.61, brier=0.02, train_rows=1600, holdout_rows=400, fraud_rate=0.02
)
WINDOW = DataWindow(
    start=datetime(2026, 1, 5, tzinfo=UTC), end=datetime(2026, 1, 6, tzinfo=UTC), rows=2000
)


def _passed(result: Any) -> None:
    assert result.passed, result.output


class _NoRegistry:
    def alias_version(self, alias: str) -> None:
        return None


@pytest.fixture
def trainer(tmp_path: Path) -> Iterator[Trainer]:
    settings = TrainingSettings(database_url=f"sqlite:///{tmp_path / 'training.db'}", min_rows=10)
    db = TrainingDatabase(settings.database_url)
    db.create_schema()

    def not_run(job: Job, timeout_s: float) -> JobResult:
        return JobResult(error="not run in a pact test")

    yield Trainer(settings, db, _NoRegistry(), job_runner=not_run)  # type: ignore[arg-type]
    db.dispose()


@pytest.fixture
def monitor(tmp_path: Path) -> Iterator[Monitor]:
    settings = MonitoringSettings(database_url=f"sqlite:///{tmp_path / 'monitoring.db'}")
    db = MonitoringDatabase(settings.database_url)
    db.create_schema()
    yield Monitor(settings, db)
    db.dispose()


# -- transactions_ingested: ingestion -> training -----------------------------------------


def test_transactions_ingested_between_ingestion_and_training(trainer: Trainer) -> None:
    (labelled,) = [t for t in generate(200, seed=4) if t.is_fraud][:1]
    example = TransactionsIngested(
        event_id=EVENT_ID, occurred_at=AT, ingested_at=AT, transactions=[labelled]
    )

    def handle(event: Event, headers: Mapping[str, str]) -> None:
        assert isinstance(event, TransactionsIngested)
        trainer.ingest(event)

    pact_file = record_message_pact("training", example, handle, pacts.PACT_DIR)
    with trainer.db.session() as session:
        assert count_transactions(session) == 1  # stored with its label

    def build() -> Any:  # ingestion's builder, exactly what its outbox stores
        return transactions_ingested_message(generate(3, seed=5), datetime.now(UTC))

    _passed(verify_message_pacts("ingestion", {"transactions_ingested": build}, [pact_file]))


# -- training_completed: training -> monitoring -------------------------------------------


def _reference_example() -> list[FeatureReference]:
    return [
        FeatureReference(
            feature="amount_log",
            bin_edges=[0.0, 2.5, 5.0],
            bin_fractions=[0.5, 0.5],
            mean=3.2,
            sample=[3.1, 2.9],
        )
    ]


def test_training_completed_between_training_and_monitoring(monitor: Monitor) -> None:
    example = TrainingCompleted(
        event_id=EVENT_ID,
        occurred_at=AT,
        run_id="7f1d3c52-1111-4a55-9c1e-2a9f6b3d0a77",
        status="succeeded",
        model_version="3",
        feature_spec_version="1",
        metrics=METRICS,
        data_window=WINDOW,
        reference=_reference_example(),
    )

    def handle(event: Event, headers: Mapping[str, str]) -> None:
        assert isinstance(event, TrainingCompleted)
        assert monitor.record_reference(event)

    pact_file = record_message_pact("monitoring", example, handle, pacts.PACT_DIR)
    with monitor.db.session() as session:
        assert session.execute(select(references.c.model_version)).scalars().all() == ["3"]

    def build() -> Any:  # training's builder on a real reference
        rng = np.random.default_rng(0)
        result = JobResult(
            model_version="4",
            mlflow_run_id="abc",
            metrics=METRICS,
            data_window=WINDOW,
            reference=build_reference(
                rng.normal(size=(300, N_FEATURES)).astype(np.float32),
                rng.random(300).astype(np.float32),
            ),
        )
        return encode(training_completed_event("run-1", result))

    body = json.loads(build().body)
    assert [r["feature"] for r in body["reference"]] == [*FEATURE_NAMES, "score"]
    _passed(verify_message_pacts("training", {"training_completed": build}, [pact_file]))


# -- drift_detected: monitoring -> training -----------------------------------------------


def test_drift_detected_between_monitoring_and_training(trainer: Trainer) -> None:
    trainer.ingest(TransactionsIngested(ingested_at=AT, transactions=generate(50, seed=6)))
    feature = FeatureDrift(
        feature="amount_log",
        psi=0.45,
        ks_statistic=0.3,
        ks_pvalue=0.0001,
        reference_mean=3.1,
        window_mean=4.2,
        drifted=True,
    )
    example = DriftDetected(
        event_id=EVENT_ID,
        occurred_at=AT,
        model_version="3",
        window_size=500,
        drifted_features=["amount_log"],
        features=[feature],
        detected_at=AT,
    )
    started: list[str | None] = []

    def handle(event: Event, headers: Mapping[str, str]) -> None:
        assert isinstance(event, DriftDetected)
        started.append(trainer.handle_drift(event))

    pact_file = record_message_pact("training", example, handle, pacts.PACT_DIR)
    (run_id,) = started
    assert run_id is not None  # a retraining run was queued
    assert trainer.get(run_id).params == TrainingRunRequest(
        epochs=trainer.settings.retrain_epochs, max_rows=trainer.settings.retrain_max_rows
    )

    def build() -> Any:  # monitoring's builder on a real drifting report
        base = transform_many(generate(1000, seed=1))
        reference = {name: base[:, i].tolist() for i, name in enumerate(FEATURE_NAMES)}
        drifted = transform_many(generate(300, seed=2, drift=DriftKnob(amount_scale=8.0)))
        rows = [WindowRow(drifted[i].tolist(), 0.1, AT) for i in range(300)]
        report = compute_report(reference, "5", rows, 300, DriftThresholds())
        assert report.status == "drift"
        return encode(drift_alarm(report))

    _passed(verify_message_pacts("monitoring", {"drift_detected": build}, [pact_file]))


# -- pacts whose consumer tests live with inference ---------------------------------------


def _model_promoted() -> Any:
    promoted = ModelVersion(
        version="4",
        created_at=AT,
        training_run_id="run-1",
        feature_spec_version="1",
        metrics=METRICS,
        data_window=WINDOW,
        is_current=True,
        promoted_at=datetime.now(UTC),
    )
    return encode(model_promoted_event("risk-scorer", promoted, "3"))


def _challenger_proposed() -> Any:  # training's builder, exactly what its outbox stores
    return encode(challenger_proposed_event("risk-scorer", "4", EVALUATION, 200))


def test_training_produces_the_model_promoted_and_challenger_proposed_inference_expects() -> None:
    pact_file = pacts.PACT_DIR / "inference-training.json"
    builders = {"model_promoted": _model_promoted, "challenger_proposed": _challenger_proposed}
    _passed(verify_message_pacts("training", builders, [pact_file]))


def test_monitoring_handles_the_prediction_logged_inference_recorded(monitor: Monitor) -> None:
    document = json.loads((pacts.PACT_DIR / "monitoring-inference.json").read_text())
    (interaction,) = document["interactions"]
    content = interaction["contents"]["content"]
    event = route_for("prediction_logged").model.from_message(json.dumps(content))
    assert isinstance(event, PredictionLogged)
    assert monitor.record_prediction(event) == len(event.decisions)
    assert not monitor.record_prediction(event)  # a redelivery changes nothing
    assert monitor.serving_version() == event.decisions[-1].prediction.model_version


# -- shadow_scored: inference -> training; challenger_proposed: training -> inference ----

EVALUATION = HoldoutEvaluation(
    rows=400,
    positives=32,
    window=WINDOW,
    sufficient=True,
    challenger_roc_auc=0.96,
    champion_version="3",
    champion_roc_auc=0.71,
    summary="ROC AUC 0.9600 vs champion v3 0.7100 on the same 400 rows, 32 fraud",
)


class _Champion:
    """A registry where v3 serves and v4 can be promoted."""

    def __init__(self) -> None:
        self.champion = "3"

    def alias_version(self, alias: str) -> str | None:
        return self.champion if alias == "champion" else None

    def promote(self, version: str) -> tuple[ModelVersion, str | None]:
        previous, self.champion = self.champion, version
        promoted = ModelVersion(
            version=version,
            created_at=AT,
            training_run_id="run-4",
            feature_spec_version="1",
            metrics=METRICS,
            data_window=WINDOW,
            is_current=True,
            promoted_at=AT,
        )
        return promoted, previous


def test_training_handles_the_shadow_scored_it_expects(tmp_path: Path) -> None:
    settings = TrainingSettings(database_url=f"sqlite:///{tmp_path / 'training.db'}", min_rows=10)
    db = TrainingDatabase(settings.database_url)
    db.create_schema()
    registry = _Champion()
    trainer = Trainer(settings, db, registry)  # type: ignore[arg-type]
    with db.session() as session:  # v4 was proposed against v3 (its run is not needed)
        session.execute(
            proposals.insert().values(
                model_version="4",
                run_id="run-4",
                champion_version="3",
                proposed_at=AT,
                state="pending",
            )
        )
    outcomes: list[str | None] = []

    def handle(event: Event, headers: Mapping[str, str]) -> None:
        assert isinstance(event, ShadowScored)
        outcomes.append(trainer.handle_shadow(event))

    example = ShadowScored(
        event_id=EVENT_ID,
        occurred_at=AT,
        model_version="4",
        champion_version="3",
        instance="host-1",
        outcome="completed",
        reason="",
        rows=200,
        agreement=0.91,
        challenger_decline_rate=0.07,
        champion_decline_rate=0.01,
        challenger_mean_score=0.09,
        champion_mean_score=0.03,
        errors=0,
        started_at=AT,
        finished_at=AT,
    )
    try:
        record_message_pact("training", example, handle, pacts.PACT_DIR)
        assert outcomes == ["promoted"] and registry.champion == "4"
    finally:
        db.dispose()
