"""The monitoring service's Prometheus metrics (drift figures of the last check)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.psi = Gauge(
            "monitoring_feature_psi",
            "PSI of each feature (and of the score) in the last check.",
            ["feature"],
            registry=self.registry,
        )
        self.ks = Gauge(
            "monitoring_feature_ks_statistic",
            "KS statistic of each feature (and of the score) in the last check.",
            ["feature"],
            registry=self.registry,
        )
        self.drifting = Gauge(
            "monitoring_drift_active",
            "1 while the serving model is in a drift episode.",
            registry=self.registry,
        )
        self.drifted_features = Gauge(
            "monitoring_drifted_features",
            "How many features drifted in the last check.",
            registry=self.registry,
        )
        self.window_size = Gauge(
            "monitoring_window_predictions",
            "Predictions in the detector's window at the last check.",
            registry=self.registry,
        )
        self.episodes = Counter(
            "monitoring_drift_episodes_total",
            "Drift episodes (each raised one drift_detected).",
            registry=self.registry,
        )
        self.predictions = Counter(
            "monitoring_predictions_total",
            "Predictions added to the log from prediction_logged.",
            registry=self.registry,
        )
