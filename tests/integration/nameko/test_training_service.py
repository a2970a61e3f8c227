"""The training worker in a real nameko container, on a real broker (a fresh vhost) and a
real MLflow server: ingested transactions land in its store once, a drift alarm starts a
retraining run whose version is registered, promoted and announced on the wire, a second
alarm cools down, and the HTTP API reports it all in the contract's shapes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from nameko.containers import ServiceContainer
from nameko.testing.services import entrypoint_hook

from contracts.events.models import (
    DriftDetected,
    ModelPromoted,
    TrainingCompleted,
    TransactionsIngested,
)
from contracts.monitoring import FeatureDrift
from contracts.registry import ModelList, ModelVersion, TrainingRun
from datagen import generate
from eventbus import SyncPublisher, build_topology, encode
from extracted_services.training.service import TrainingService
from extracted_services.training.settings import Settings
from extracted_services.training.store import Database, count_transactions
from migration_playbook.runner.mlflow_server import MlflowServer
from migration_playbook.runner.process import free_port
from tests.amqp_support import drain, fresh_vhost

TOPOLOGY = build_topology()
COMPLETED_Q = TOPOLOGY.consumer_queue("monitoring", "training_completed").name
PROMOTED_Q = TOPOLOGY.consumer_queue("inference", "model_promoted").name


@pytest.fixture(scope="module")
def mlflow_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = MlflowServer(tmp_path_factory.mktemp("mlflow"), free_port())
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def _drift() -> DriftDetected:
    feature = FeatureDrift(
        feature="amount_log",
        psi=0.6,
        ks_statistic=0.4,
        ks_pvalue=0.0,
        reference_mean=3.1,
        window_mean=4.2,
        drifted=True,
    )
    return DriftDetected(
        model_version=None,
        window_size=500,
        drifted_features=["amount_log"],
        features=[feature],
        detected_at=datetime.now(UTC),
    )


def _wait_for(uri: str, queue: str, timeout: float) -> list[Any]:
    deadline = time.monotonic() + timeout
    got: list[Any] = []
    while time.monotonic() < deadline and not got:
        got = drain(uri, queue)
        time.sleep(0.3)
    return got


def test_training_worker_closes_its_part_of_the_loop(tmp_path: Path, mlflow_uri: str) -> None:
    port = free_port()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'training.db'}",
        mlflow_tracking_uri=mlflow_uri,
        min_rows=200,
        retrain_epochs=2,
        retrain_cooldown_s=600,
        relay_interval_s=0.2,
    )
    base = f"http://127.0.0.1:{port}"
    with fresh_vhost("kit-training") as uri:
        container = ServiceContainer(
            TrainingService,
            config={
                "AMQP_URI": uri,
                "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
                "TRAINING_SETTINGS": settings,
            },
        )
        container.start()
        try:
            assert requests.get(f"{base}/readyz", timeout=5).json()["status"] == "ready"
            missing = requests.get(f"{base}/api/v1/models/current", timeout=5)
            assert missing.status_code == 404
            assert missing.headers["content-type"] == "application/problem+json"

            first = TransactionsIngested(
                ingested_at=datetime.now(UTC), transactions=generate(1000, seed=31)
            )
            second = TransactionsIngested(
                ingested_at=datetime.now(UTC), transactions=generate(1000, seed=32)
            )
            with SyncPublisher(uri) as publisher:
                for event in (first, second, first):  # the third is a redelivery
                    publisher.publish(encode(event))
                db = Database(settings.database_url)
                deadline = time.monotonic() + 20
                stored = 0
                while time.monotonic() < deadline and stored < 2000:
                    with db.session() as session:
                        stored = count_transactions(session)
                    time.sleep(0.2)
                time.sleep(0.5)  # let the redelivery arrive too
                with db.session() as session:
                    assert count_transactions(session) == 2000
                db.dispose()

                publisher.publish(encode(_drift()))

            (completed_msg,) = _wait_for(uri, COMPLETED_Q, 120)
            completed = TrainingCompleted.model_validate_json(completed_msg[1])
            assert completed.status == "succeeded", completed.error
            assert completed.model_version == "1" and len(completed.reference) == 14
            assert completed_msg[0].headers["event_type"] == "training_completed"
            (promoted_msg,) = _wait_for(uri, PROMOTED_Q, 20)
            promoted = ModelPromoted.model_validate_json(promoted_msg[1])
            assert promoted.model_uri == "models:/risk-scorer/1"
            assert promoted.previous_version is None and promoted.reason == "promotion"

            # Another alarm right after: the cool-down holds it (through nameko's hook).
            with entrypoint_hook(container, "handle_drift_detected") as alarm:
                alarm(_drift())
            metrics = requests.get(f"{base}/metrics", timeout=5).text
            assert "training_drift_retrains_skipped_total 1.0" in metrics
            assert 'training_runs_total{status="succeeded",trigger="drift"} 1.0' in metrics

            run = TrainingRun.model_validate(
                requests.get(
                    f"{base}/api/v1/models/training-runs/{completed.run_id}", timeout=5
                ).json()
            )
            assert run.status == "succeeded" and run.model_version == "1"
            current = ModelVersion.model_validate(
                requests.get(f"{base}/api/v1/models/current", timeout=5).json()
            )
            assert current.version == "1" and current.is_current
            assert current.data_window.rows == settings.retrain_max_rows  # the newest rows
            listing = ModelList.model_validate(
                requests.get(f"{base}/api/v1/models", timeout=5).json()
            )
            assert listing.current_version == "1" and len(listing.models) == 1
            bad = requests.post(
                f"{base}/api/v1/models/training-runs", json={"epochs": 0}, timeout=5
            )
            assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "epochs"
        finally:
            container.stop()
