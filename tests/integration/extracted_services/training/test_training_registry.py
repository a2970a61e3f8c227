"""The training job against a real MLflow server (the session's, shared with the inference
tests): a run trained in its own process logs to MLflow and registers a version that the
inference service's own loader accepts; promotion and roll-back move the aliases.

The versions go to a registered model of their own, so the inference tests' ``risk-scorer``
aliases never move. Runs without eventlet: the nameko side is in tests/integration/nameko.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contracts.events.models import TrainingCompleted, TransactionsIngested
from contracts.features import FEATURE_NAMES
from contracts.registry import RunStatus, TrainingRunRequest
from datagen import generate
from extracted_services.training.registry import Registry
from extracted_services.training.runs import Trainer
from extracted_services.training.settings import Settings
from extracted_services.training.store import Database
from tests.inference_fixtures import Registry as SessionRegistry

MODEL = "risk-scorer-training-it"


@pytest.fixture
def trainer(tmp_path: Path, registry: SessionRegistry) -> Iterator[Trainer]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'training.db'}",
        mlflow_tracking_uri=registry.tracking_uri,
        model_name=MODEL,
        experiment=MODEL,
        min_rows=200,
        promotion_margin=0.5,  # the second run cannot beat the first by that much
    )
    db = Database(settings.database_url)
    db.create_schema()
    trainer = Trainer(settings, db, Registry(settings.mlflow_tracking_uri, MODEL))
    trainer.ingest(
        TransactionsIngested(ingested_at=datetime.now(UTC), transactions=generate(1000, seed=21))
    )
    trainer.ingest(
        TransactionsIngested(ingested_at=datetime.now(UTC), transactions=generate(1000, seed=22))
    )
    yield trainer
    db.dispose()


def _events(trainer: Trainer) -> list[dict[str, Any]]:
    with trainer.db.session() as session:
        return [json.loads(p.message.body) for p in trainer.db.outbox.pending(session, 100)]


def test_a_run_registers_a_version_inference_can_serve(trainer: Trainer, tmp_path: Path) -> None:
    import mlflow
    from mlflow.tracking import MlflowClient

    from extracted_services.inference.registry import RegistryLoader

    first = trainer.execute(trainer.submit(TrainingRunRequest(epochs=2, seed=1)).run_id)
    assert first.status is RunStatus.SUCCEEDED, first.error
    assert first.metrics is not None and first.metrics.roc_auc > 0.8
    v1 = first.model_version
    assert v1 is not None

    client = MlflowClient(trainer.settings.mlflow_tracking_uri)
    mv = client.get_model_version(MODEL, v1)
    assert mv.tags["feature_spec_version"] == "1"
    assert mv.tags["training_run_id"] == first.run_id
    assert mv.tags["data_window_rows"] == "2000"
    assert client.get_model_version_by_alias(MODEL, "challenger").version == v1
    assert client.get_model_version_by_alias(MODEL, "champion").version == v1  # nothing served
    mlflow.set_tracking_uri(trainer.settings.mlflow_tracking_uri)
    run = mlflow.get_run(mv.run_id)
    assert {"roc_auc", "pr_auc", "brier"} <= set(run.data.metrics)
    assert run.data.params["feature_spec_version"] == "1" and run.data.params["epochs"] == "2"
    assert run.data.tags["data_window_start"].startswith("2026-")

    served = RegistryLoader(trainer.settings.mlflow_tracking_uri, "torch", tmp_path).load(
        f"models:/{MODEL}@champion"
    )
    assert served.version == v1 and served.feature_spec_version == "1"

    assert first.evaluation is not None and first.evaluation.champion_version is None
    # The newest 500 rows (a quarter) were held out: the model trained on the rest.
    assert (
        first.evaluation.rows == 500
        and first.metrics.train_rows + first.metrics.holdout_rows == 1500
    )

    # A second run that does not beat the margin stays challenger; a person promotes it.
    second = trainer.execute(trainer.submit(TrainingRunRequest(epochs=1, seed=2)).run_id)
    v2 = second.model_version
    assert v2 is not None and v2 != v1
    # Both scored on the same fresh hold-out: the champion (v1, loaded from the registry) too.
    evaluation = second.evaluation
    assert evaluation is not None and evaluation.champion_version == v1
    assert evaluation.champion_roc_auc is not None and evaluation.challenger_roc_auc is not None
    assert second.promotion is not None
    assert "not promoted" in second.promotion or "stays challenger" in second.promotion
    assert client.get_model_version_by_alias(MODEL, "champion").version == v1
    assert client.get_model_version_by_alias(MODEL, "challenger").version == v2
    current, versions = trainer.registry.versions()
    assert current == v1 and [m.version for m in versions] == [v2, v1]
    assert versions[1].is_current and versions[1].metrics == first.metrics

    trainer.promote(v2)
    assert client.get_model_version_by_alias(MODEL, "champion").version == v2
    assert client.get_model_version_by_alias(MODEL, "previous-champion").version == v1
    trainer.promote(v1)  # roll back
    assert trainer.registry.get(v1).is_current

    events = _events(trainer)
    assert [(e["event_type"], e.get("reason")) for e in events] == [
        ("training_completed", None),
        ("model_promoted", "promotion"),
        ("training_completed", None),
        ("model_promoted", "promotion"),
        ("model_promoted", "rollback"),
    ]
    completed = TrainingCompleted.model_validate(events[0])
    assert completed.model_version == v1 and completed.data_window is not None
    assert [r.feature for r in completed.reference] == [*FEATURE_NAMES, "score"]
    assert all(len(r.sample) == 1000 for r in completed.reference)  # the newest 1,000 rows
    assert events[4]["model_uri"] == f"models:/{MODEL}/{v1}"
