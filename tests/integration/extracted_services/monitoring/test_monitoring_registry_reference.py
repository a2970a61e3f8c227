"""The monitor reads the reference of a version no ``training_completed`` announced (the
champion the kit exported from the monolith) from the real MLflow server of the session,
keeps it, and reports drift against it; an unknown version stays ``no_reference``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from contracts.events.models import LoggedDecision, PredictionLogged
from contracts.features import transform_many
from contracts.predictions import PredictionRecord
from datagen import DriftKnob, generate
from extracted_services.monitoring.monitor import Monitor
from extracted_services.monitoring.settings import Settings
from extracted_services.monitoring.store import Database
from tests.inference_fixtures import Registry


def _log(monitor: Monitor, version: str, n: int, seed: int, drift: DriftKnob | None) -> None:
    transactions = generate(n, seed=seed, drift=drift, id_prefix=f"m{seed}")
    matrix = transform_many(transactions)
    for i, tx in enumerate(transactions):
        decision = LoggedDecision(
            prediction=PredictionRecord(
                prediction_id=str(uuid.uuid4()),
                transaction_id=tx.transaction_id,
                score=0.02,
                decision="approve",
                model_version=version,
                explanation=[],
                created_at=datetime.now(UTC),
                transaction=tx,
            ),
            features=matrix[i].tolist(),
        )
        monitor.record_prediction(PredictionLogged(decisions=[decision], feature_spec_version="1"))


def test_reference_of_an_exported_champion_comes_from_the_registry(
    tmp_path: Path, registry: Registry
) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'monitoring.db'}",
        mlflow_tracking_uri=registry.tracking_uri,
        registry_retry_s=3600,
    )
    db = Database(settings.database_url)
    db.create_schema()
    monitor = Monitor(settings, db)
    try:
        _log(monitor, "999", 60, 1, None)
        assert monitor.report(100).status == "no_reference"  # no such registry version
        champion = registry.champion.registry_version
        _log(monitor, champion, 300, 2, None)
        calm = monitor.report(300)
        assert calm.model_version == champion and calm.reference_rows == 2000
        assert calm.status == "ok", calm.drifted_features
        _log(monitor, champion, 300, 3, DriftKnob(amount_scale=8.0, channel_shift=0.9))
        drifted = monitor.report(300)
        assert drifted.status == "drift" and "amount_log" in drifted.drifted_features
    finally:
        db.dispose()
