"""Prometheus metrics of one service instance (its own registry: one per app)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """Everything ``/metrics`` shows; names follow ``inference_<what>_<unit>``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.model_version = Gauge(
            "inference_model_version_info",
            "The served model version (value 1 on the serving one).",
            ["model", "version", "backend"],
            registry=r,
        )
        self.served_version = Gauge(
            "inference_served_model_version", "The served registry version number.", registry=r
        )
        self.swaps = Counter(
            "inference_model_swaps_total", "Model versions swapped in.", registry=r
        )
        self.refused = Counter(
            "inference_model_refusals_total", "Model versions refused by the checks.", registry=r
        )
        self.batch_rows = Histogram(
            "inference_batch_size_rows",
            "Rows per scored batch.",
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.audit_group_batches = Histogram(
            "inference_audit_group_batches",
            "Scored batches per audit transaction (group commit).",
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.queue_depth = Gauge(
            "inference_queue_depth_requests", "Requests waiting to be scored.", registry=r
        )
        self.overloaded = Counter(
            "inference_overloaded_requests_total",
            "Requests refused with 503 because the queue was full.",
            registry=r,
        )
        self.predictions = Counter(
            "inference_predictions_total", "Decisions made.", ["decision"], registry=r
        )
        self.dry_runs = Counter(
            "inference_dry_run_predictions_total",
            "Rows scored in dry runs (answered, not audited, not announced).",
            registry=r,
        )
        self.request_seconds = Histogram(
            "inference_request_duration_seconds",
            "Time to answer POST /api/v1/predictions.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.events_published = Counter(
            "inference_events_published_total",
            "prediction_logged messages published (each carries one audit transaction's "
            "decisions).",
            registry=r,
        )
        self.shadow_runs = Counter(
            "inference_shadow_runs_total",
            "Proposed versions shadow scored on live traffic, by how it ended.",
            ["outcome"],
            registry=r,
        )
        self.promotions = Counter(
            "inference_model_promotions_received_total",
            "model_promoted events handled.",
            ["outcome"],
            registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
