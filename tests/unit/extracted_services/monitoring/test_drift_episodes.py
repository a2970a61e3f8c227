"""The monitoring service's windows and episodes: reports agree with ``riskmodel.drift``
number for number, the detector raises one alarm per episode (not per check or message),
an episode settles after calm checks or a new model, and the store dedupes redeliveries."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from contracts.events.models import (
    FeatureReference,
    LoggedDecision,
    PredictionLogged,
    TrainingCompleted,
)
from contracts.features import FEATURE_NAMES, transform_many
from contracts.monitoring import DriftReport, DriftThresholds, DriftWindow
from contracts.predictions import PredictionRecord
from datagen import DriftKnob, generate
from extracted_services.monitoring.detector import EpisodeTracker, WindowRow, compute_report
from extracted_services.monitoring.monitor import Monitor
from extracted_services.monitoring.settings import Settings
from extracted_services.monitoring.store import Database
from riskmodel.drift import feature_drift

THRESHOLDS = DriftThresholds(psi=0.2, ks=0.2, min_samples=50)


def _reference(n: int = 2000, seed: int = 1) -> dict[str, list[float]]:
    matrix = transform_many(generate(n, seed=seed))
    out = {name: matrix[:, i].astype(float).tolist() for i, name in enumerate(FEATURE_NAMES)}
    out["score"] = np.random.default_rng(seed).beta(1, 30, n).tolist()
    return out


def _rows(n: int, seed: int, drift: DriftKnob | None = None) -> list[WindowRow]:
    matrix = transform_many(generate(n, seed=seed, drift=drift))
    scores = np.random.default_rng(seed).beta(1, 30, n)
    now = datetime.now(UTC)
    return [WindowRow(matrix[i].tolist(), float(scores[i]), now) for i in range(n)]


def test_report_states_and_numbers() -> None:
    reference = _reference()
    assert compute_report(None, None, [], 100, THRESHOLDS).status == "no_reference"
    few = compute_report(reference, "1", _rows(10, 2), 100, THRESHOLDS)
    assert few.status == "insufficient_data" and few.window.size == 10
    calm = compute_report(reference, "1", _rows(800, 3), 800, THRESHOLDS)
    assert calm.status == "ok" and calm.drifted_features == [] and calm.reference_rows == 2000
    rows = _rows(800, 4, DriftKnob(amount_scale=6.0, channel_shift=0.8))
    drifted = compute_report(reference, "1", rows, 800, THRESHOLDS)
    assert drifted.status == "drift"
    assert {"amount_log", "channel_web"} <= set(drifted.drifted_features)
    amount = next(f for f in drifted.features if f.feature == "amount_log")
    expected = feature_drift(
        "amount_log", reference["amount_log"], [r.features[0] for r in rows], THRESHOLDS
    )
    assert amount == expected  # the contract's statistics, number for number
    assert drifted.score is not None and drifted.score.feature == "score"


def _report(status: str, version: str | None = "1") -> DriftReport:
    return DriftReport(
        status=status,  # type: ignore[arg-type]
        model_version=version,
        reference_rows=100,
        window=DriftWindow(requested=100, size=100, start=None, end=None),
        thresholds=THRESHOLDS,
        drifted_features=["amount_log"] if status == "drift" else [],
        features=[],
        computed_at=datetime.now(UTC),
    )


def test_one_alarm_per_episode() -> None:
    tracker = EpisodeTracker(settle_checks=3)
    sequence = ["ok", "drift", "drift", "ok", "drift", "insufficient_data", "drift"]
    assert [tracker.observe(_report(s)) for s in sequence] == [
        False,
        True,  # the episode starts: the one alarm
        False,
        False,
        False,  # one calm check does not end it
        False,
        False,
    ]
    for _ in range(3):
        assert not tracker.observe(_report("ok"))
    assert not tracker.in_episode("1")
    assert tracker.observe(_report("drift"))  # a new episode after it settled
    assert tracker.episodes == 2


def test_a_new_model_version_has_its_own_episodes() -> None:
    tracker = EpisodeTracker(settle_checks=3)
    assert tracker.observe(_report("drift", "1"))
    assert tracker.observe(_report("drift", "2"))  # the new model drifts too: new alarm
    assert not tracker.observe(_report("drift", "2"))
    assert tracker.in_episode("1") and tracker.in_episode("2")


# -- the Monitor on its own SQLite database (no broker: its relay is not started) ----------


@contextmanager
def monitor_on(database_url: str) -> Iterator[Monitor]:
    """A Monitor on a fresh store at ``database_url`` (also run on PostgreSQL, by
    ``tests/integration/extracted_services/monitoring/test_monitoring_store.py``)."""
    settings = Settings(
        database_url=database_url,
        detect_window=300,
        min_samples=50,
        settle_checks=2,
    )
    db = Database(settings.database_url)
    db.create_schema()
    try:
        yield Monitor(settings, db)
    finally:
        db.dispose()


@pytest.fixture
def monitor(tmp_path: Path) -> Iterator[Monitor]:
    with monitor_on(f"sqlite:///{tmp_path / 'monitoring.db'}") as monitor:
        yield monitor


def _logged(
    version: str, seed: int, n: int, drift: DriftKnob | None = None, spacing_s: float = 1.0
) -> list[Any]:
    transactions = generate(n, seed=seed, drift=drift, id_prefix=f"s{seed}")
    matrix = transform_many(transactions)
    scores = np.random.default_rng(seed).beta(1, 30, n)
    return [
        PredictionLogged(
            decisions=[
                LoggedDecision(
                    prediction=PredictionRecord(
                        prediction_id=str(uuid.uuid4()),
                        transaction_id=tx.transaction_id,
                        score=float(scores[i]),
                        decision="approve",
                        model_version=version,
                        explanation=[],
                        created_at=datetime.now(UTC) - timedelta(seconds=(n - i) * spacing_s),
                        transaction=tx,
                    ),
                    features=matrix[i].tolist(),
                )
            ],
            feature_spec_version="1",
        )
        for i, tx in enumerate(transactions)
    ]


def _completed(version: str, seed: int) -> TrainingCompleted:
    reference = _reference(seed=seed)
    return TrainingCompleted(
        run_id=f"run-{version}",
        status="succeeded",
        model_version=version,
        feature_spec_version="1",
        metrics=None,
        data_window=None,
        reference=[
            FeatureReference(
                feature=name, bin_edges=[0.0, 1.0], bin_fractions=[1.0], mean=0.0, sample=values
            )
            for name, values in reference.items()
        ],
    )


def _alarms(monitor: Monitor) -> list[dict[str, Any]]:
    with monitor.db.session() as session:
        return [json.loads(p.message.body) for p in monitor.db.outbox.pending(session, 100)]


def test_the_monitor_raises_one_alarm_per_episode_and_settles_on_a_new_model(
    monitor: Monitor,
) -> None:
    assert monitor.report(100).status == "no_reference"
    completed = _completed("1", seed=1)
    assert monitor.record_reference(completed)
    assert not monitor.record_reference(completed)  # redelivered
    calm = _logged("1", 2, 300)
    for event in calm:
        assert monitor.record_prediction(event)
    assert not monitor.record_prediction(calm[0])  # redelivered: the log is unchanged
    assert monitor.check().status == "ok" and _alarms(monitor) == []

    for event in _logged("1", 3, 300, DriftKnob(amount_scale=8.0, channel_shift=0.9)):
        monitor.record_prediction(event)
    for _ in range(3):  # a storm of checks, and of messages in between: one alarm
        assert monitor.check().status == "drift"
        monitor.record_prediction(_logged("1", 4, 1, DriftKnob(amount_scale=8.0))[0])
    (alarm,) = _alarms(monitor)
    assert alarm["event_type"] == "drift_detected" and alarm["model_version"] == "1"
    assert "amount_log" in alarm["drifted_features"] and alarm["window_size"] == 300
    assert all(f["drifted"] for f in alarm["features"])

    # Retrained on the drifted traffic: version 2 serves with its own reference.
    monitor.record_reference(_completed("2", seed=5))
    assert monitor.check().status == "drift"  # still version 1's predictions
    drifted_traffic = _logged("2", 6, 300, DriftKnob(amount_scale=8.0, channel_shift=0.9))
    for event in drifted_traffic[:10]:
        monitor.record_prediction(event)
    assert monitor.report(100).status == "insufficient_data"
    assert monitor.report(100).model_version == "2"
    assert len(_alarms(monitor)) == 1
    text = monitor.metrics.registry.get_sample_value("monitoring_drift_episodes_total")
    assert text == 1.0
    assert (
        monitor.metrics.registry.get_sample_value(
            "monitoring_feature_psi", {"feature": "amount_log"}
        )
        > 0.2
    )


def test_no_alarm_on_a_window_too_small_for_the_statistics(monitor: Monitor) -> None:
    monitor.record_reference(_completed("1", seed=1))
    knob = DriftKnob(amount_scale=8.0, channel_shift=0.9)
    for event in _logged("1", 3, 60, knob):
        monitor.record_prediction(event)
    assert monitor.check().status == "drift"  # reported (min_samples 50) ...
    assert _alarms(monitor) == []  # ... but no alarm below alarm_min_samples (200)
    for event in _logged("1", 4, 200, knob):
        monitor.record_prediction(event)
    monitor.check()
    assert len(_alarms(monitor)) == 1


def test_the_detector_window_is_time_bounded_and_the_log_is_pruned(monitor: Monitor) -> None:
    monitor.record_reference(_completed("1", seed=1))
    for event in _logged("1", 2, 120, spacing_s=10):
        monitor.record_prediction(event)
    assert monitor.report(300).window.size == 120
    assert monitor.report(300, max_age_s=605).window.size == 60  # one per 10 s, newest
    monitor.settings = monitor.settings.model_copy(update={"retention_rows": 100})
    assert monitor.prune() == 20
    assert monitor.report(300).window.size == 100


def test_an_episode_and_how_far_it_settled_survive_a_restart(monitor: Monitor) -> None:
    """A restarted worker raises no second alarm for the episode in progress, and counts
    the calm checks it had seen before the restart."""
    monitor.record_reference(_completed("1", seed=1))
    for event in _logged("1", 2, 300):
        monitor.record_prediction(event)
    assert monitor.check().status == "ok"
    for event in _logged("1", 3, 300, DriftKnob(amount_scale=8.0, channel_shift=0.9)):
        monitor.record_prediction(event)
    assert monitor.check().status == "drift" and len(_alarms(monitor)) == 1

    restarted = Monitor(monitor.settings, monitor.db)
    assert restarted.check().status == "drift"
    assert len(_alarms(restarted)) == 1  # the same episode: no second alarm
    assert restarted.tracker.in_episode("1")

    for event in _logged("1", 7, 300):  # calm again: one calm check of the two it needs
        restarted.record_prediction(event)
    assert restarted.check().status == "ok" and restarted.tracker.in_episode("1")

    again = Monitor(monitor.settings, monitor.db)
    assert again.check().status == "ok"  # the second calm check: the episode settles
    assert not again.tracker.in_episode("1")
    for event in _logged("1", 8, 300, DriftKnob(amount_scale=8.0, channel_shift=0.9)):
        again.record_prediction(event)
    assert again.check().status == "drift"
    assert len(_alarms(again)) == 2  # a new episode, a new alarm
