"""The monitoring worker in a real nameko container on a real broker (a fresh vhost): a new
reference arrives by ``training_completed``, live ``prediction_logged`` traffic drifts, one
``drift_detected`` reaches training's queue however many messages and checks follow, and
the HTTP API answers in the contract's shapes."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import requests
from nameko.containers import ServiceContainer
from nameko.testing.services import entrypoint_hook

from contracts.events.models import (
    DriftDetected,
    FeatureReference,
    LoggedDecision,
    PredictionLogged,
    TrainingCompleted,
)
from contracts.features import FEATURE_NAMES, transform_many
from contracts.monitoring import DriftReport
from contracts.predictions import PredictionRecord
from datagen import DriftKnob, generate
from eventbus import SyncPublisher, build_topology, encode
from extracted_services.monitoring.service import MonitoringService
from extracted_services.monitoring.settings import Settings
from migration_playbook.runner.process import free_port
from tests.amqp_support import drain, fresh_vhost

ALARMS_Q = build_topology().consumer_queue("training", "drift_detected").name


def _reference() -> TrainingCompleted:
    matrix = transform_many(generate(2000, seed=41))
    samples = {name: matrix[:, i].tolist() for i, name in enumerate(FEATURE_NAMES)}
    samples["score"] = np.random.default_rng(41).beta(1, 30, 2000).tolist()
    return TrainingCompleted(
        run_id="run-7",
        status="succeeded",
        model_version="7",
        feature_spec_version="1",
        metrics=None,
        data_window=None,
        reference=[
            FeatureReference(
                feature=name, bin_edges=[0.0, 1.0], bin_fractions=[1.0], mean=0.0, sample=values
            )
            for name, values in samples.items()
        ],
    )


def _predictions(n: int, seed: int, drift: DriftKnob | None) -> list[PredictionLogged]:
    # A random sample of a long stream: n consecutive transactions would cover a few hours
    # only, and the time-of-day features of any part of such a window drift for real.
    stream = generate(n * 10, seed=seed, drift=drift, id_prefix=f"p{seed}")
    picks = np.random.default_rng(seed).permutation(len(stream))[:n]
    transactions = [stream[i] for i in picks]
    matrix = transform_many(transactions)
    return [
        PredictionLogged(
            decisions=[
                LoggedDecision(
                    prediction=PredictionRecord(
                        prediction_id=str(uuid.uuid4()),
                        transaction_id=tx.transaction_id,
                        score=0.02,
                        decision="approve",
                        model_version="7",
                        explanation=[],
                        created_at=datetime.now(UTC),
                        transaction=tx,
                    ),
                    features=matrix[i].tolist(),
                )
            ],
            feature_spec_version="1",
        )
        for i, tx in enumerate(transactions)
    ]


def test_monitoring_worker_raises_one_alarm_per_episode(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'monitoring.db'}",
        detect_window=200,
        check_interval_s=0.3,
        relay_interval_s=0.2,
    )
    with fresh_vhost("kit-monitoring") as uri:
        container = ServiceContainer(
            MonitoringService,
            config={
                "AMQP_URI": uri,
                "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
                "MONITORING_SETTINGS": settings,
            },
        )
        container.start()
        try:
            assert requests.get(f"{base}/readyz", timeout=5).status_code == 200
            empty = DriftReport.model_validate(
                requests.get(f"{base}/api/v1/monitoring/drift", timeout=5).json()
            )
            assert empty.status == "no_reference" and empty.window.requested == 1000
            bad = requests.get(f"{base}/api/v1/monitoring/drift?window=5", timeout=5)
            assert bad.status_code == 422
            assert bad.headers["content-type"] == "application/problem+json"
            assert bad.json()["errors"][0]["field"] == "window"

            with SyncPublisher(uri) as publisher:
                publisher.publish(encode(_reference()))
                time.sleep(0.5)
                for event in _predictions(200, 42, None):
                    publisher.publish(encode(event))
                deadline = time.monotonic() + 20
                report = empty
                while time.monotonic() < deadline and report.window.size < 200:
                    report = DriftReport.model_validate(
                        requests.get(f"{base}/api/v1/monitoring/drift?window=200", timeout=5).json()
                    )
                    time.sleep(0.2)
                assert report.status == "ok" and report.model_version == "7", report
                assert report.reference_rows == 2000
                time.sleep(1.0)
                assert drain(uri, ALARMS_Q) == []  # calm traffic: no alarm

                knob = DriftKnob(amount_scale=8.0, channel_shift=0.9)
                for event in _predictions(400, 43, knob):
                    publisher.publish(encode(event))
            deadline = time.monotonic() + 20
            alarms: list[DriftDetected] = []
            while time.monotonic() < deadline and not alarms:
                alarms = [DriftDetected.model_validate_json(b) for _, b in drain(uri, ALARMS_Q)]
                time.sleep(0.2)
            (alarm,) = alarms
            # Raised by the first drifting check, perhaps while the drift was streaming in.
            assert alarm.model_version == "7" and alarm.drifted_features
            assert all(f.drifted for f in alarm.features)
            time.sleep(1.5)  # several more checks of the same drifting window
            with entrypoint_hook(container, "handle_prediction_logged") as log:
                log(_predictions(20, 44, knob))
            time.sleep(1.0)
            assert drain(uri, ALARMS_Q) == []  # still the same episode: no second alarm

            report = DriftReport.model_validate(
                requests.get(f"{base}/api/v1/monitoring/drift?window=300", timeout=5).json()
            )
            assert report.status == "drift" and report.score is not None
            assert "amount_log" in report.drifted_features
            metrics = requests.get(f"{base}/metrics", timeout=5).text
            assert "monitoring_drift_episodes_total 1.0" in metrics
            assert 'monitoring_feature_psi{feature="amount_log"}' in metrics
            assert "monitoring_drift_active 1.0" in metrics
        finally:
            container.stop()


def test_a_consumer_only_replica_shares_the_stream_and_nothing_is_stored_twice(
    tmp_path: Path,
) -> None:
    """Competing consumers: the main worker and a consumer-only replica (``consume``) read
    the one ``prediction_logged`` queue into the one database; every decision is stored
    exactly once, both take part, and only the main worker answers HTTP."""
    from sqlalchemy import func, select

    from extracted_services.monitoring.service import MonitoringConsumer
    from extracted_services.monitoring.store import Database, predictions

    port = free_port()
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'monitoring.db'}")
    with fresh_vhost("kit-monitoring-replicas") as uri:
        config = {
            "AMQP_URI": uri,
            "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
            "MONITORING_SETTINGS": settings,
        }
        main = ServiceContainer(MonitoringService, config=config)
        replica = ServiceContainer(MonitoringConsumer, config=config)
        main.start()
        replica.start()
        events = _predictions(600, 51, None)
        # The same decisions again under other event ids: redeliveries the log must absorb.
        again = [e.model_copy(update={"event_id": f"again-{e.event_id}"}) for e in events[:50]]
        db = Database(settings.database_url)

        def stored() -> int:
            with db.session() as session:
                query = select(func.count()).select_from(predictions)
                return int(session.execute(query).scalar_one())

        try:
            with SyncPublisher(uri) as publisher:
                for event in [*events, *again]:
                    publisher.publish(encode(event))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and stored() < 600:
                time.sleep(0.2)
            time.sleep(1.0)
            assert stored() == 600
            handlers = [
                entrypoint
                for container in (main, replica)
                for entrypoint in container.entrypoints
                if entrypoint.method_name == "handle_prediction_logged"
            ]
            handled = [entrypoint.consumer.stats.handled for entrypoint in handlers]
            assert sum(handled) == 650 and min(handled) > 0, handled
            assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok
        finally:
            db.dispose()
            replica.stop()
            main.stop()
