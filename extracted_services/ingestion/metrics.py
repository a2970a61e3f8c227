"""Prometheus metrics for ingestion (its JSON logs are ``service_runtime.logging``'s)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """Metrics in a registry owned by the app (several apps may share a test process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.accepted = Counter(
            "ingestion_transactions_accepted_total",
            "Transactions stored (duplicates excluded).",
            registry=self.registry,
        )
        self.duplicates = Counter(
            "ingestion_transactions_duplicate_total",
            "Transactions answered as duplicates.",
            registry=self.registry,
        )
        self.dry_runs = Counter(
            "ingestion_dry_run_transactions_total",
            "Transactions checked in dry runs (answered, not stored, not announced).",
            registry=self.registry,
        )
        self.rejected = Counter(
            "ingestion_requests_rejected_total",
            "Requests refused, by HTTP status.",
            ["status"],
            registry=self.registry,
        )
        self.published = Counter(
            "ingestion_events_published_total",
            "Events confirmed by the broker.",
            registry=self.registry,
        )
        self.publish_latency = Histogram(
            "ingestion_publish_latency_seconds",
            "From the outbox commit to the broker's confirm, per event.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "ingestion_outbox_depth", "Events waiting in the outbox.", registry=self.registry
        )
        self.broker_connected = Gauge(
            "ingestion_broker_connected",
            "1 while the publisher holds a broker connection.",
            registry=self.registry,
        )

    def on_published(self, count: int, ages: list[float]) -> None:
        self.published.inc(count)
        for age in ages:
            self.publish_latency.observe(age)
