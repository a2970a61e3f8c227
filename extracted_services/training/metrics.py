"""The training service's Prometheus metrics, on a registry per service instance."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.runs = Counter(
            "training_runs_total",
            "Finished training runs by outcome and trigger.",
            ["status", "trigger"],
            registry=self.registry,
        )
        self.promotions = Counter(
            "training_promotions_total",
            "Model promotions by reason (promotion or rollback).",
            ["reason"],
            registry=self.registry,
        )
        self.retrains_skipped = Counter(
            "training_drift_retrains_skipped_total",
            "drift_detected events that did not start a run (one in progress, cool-down).",
            registry=self.registry,
        )
        self.transactions = Counter(
            "training_transactions_stored_total",
            "Transactions added to the training store from transactions_ingested.",
            registry=self.registry,
        )
        self.run_seconds = Gauge(
            "training_last_run_seconds",
            "Wall time of the last training run.",
            registry=self.registry,
        )
        self.events_published = Counter(
            "training_events_published_total",
            "Events relayed from the outbox and confirmed by the broker.",
            ["event_type"],
            registry=self.registry,
        )
        self.proposals = Counter(
            "training_proposals_total",
            "Versions proposed for promotion and how their shadow scoring ended.",
            ["state"],
            registry=self.registry,
        )
