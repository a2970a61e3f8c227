"""Prometheus metrics of the proxy, on a registry of its own (one per app instance).

Labels stay low-cardinality (route name, upstream name, side, status class). Children of
labelled metrics are cached per label tuple, so the hot path costs a dict lookup plus
the increment/observe itself.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

SIDES = ("primary", "candidate", "shadow", "fallback")
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")


class ProxyMetrics:
    """Every metric the proxy exposes at ``/metrics``."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "proxy_requests",
            "Requests answered, by route, upstream, side and status class.",
            ("route", "upstream", "side", "status_class"),
            registry=r,
        )
        self.latency = Histogram(
            "proxy_request_duration_seconds",
            "Upstream exchange time, by route, upstream, side.",
            ("route", "upstream", "side"),
            buckets=_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "proxy_upstream_errors",
            "Failed upstream exchanges, by kind.",
            ("route", "upstream", "side", "kind"),
            registry=r,
        )
        self.fallbacks = Counter(
            "proxy_fallbacks",
            "Requests served by the fallback upstream.",
            ("route", "upstream"),
            registry=r,
        )
        self.read_fallbacks = Counter(
            "proxy_read_fallbacks",
            "Reads answered 404 by the primary and asked of the route's read_fallback.",
            ("route", "upstream"),
            registry=r,
        )
        self.retries = Counter(
            "proxy_retries", "Retries sent to an upstream.", ("upstream",), registry=r
        )
        self.retry_budget_exhausted = Counter(
            "proxy_retry_budget_exhausted",
            "Retries refused by the retry budget.",
            ("upstream",),
            registry=r,
        )
        self.shadow_comparisons = Counter(
            "proxy_shadow_comparisons", "Shadow answers compared.", ("route",), registry=r
        )
        self.shadow_mismatches = Counter(
            "proxy_shadow_mismatches",
            "Shadow answers that differ from the primary's.",
            ("route",),
            registry=r,
        )
        self.shadow_dropped = Counter(
            "proxy_shadow_dropped",
            "Shadow copies dropped (queue full or body too large).",
            ("route", "reason"),
            registry=r,
        )
        self.shadow_errors = Counter(
            "proxy_shadow_errors",
            "Shadow copies that failed (recorded, never raised).",
            ("route", "kind"),
            registry=r,
        )
        self.decisions = Counter(
            "proxy_shadow_decisions",
            "Decisions compared in shadow prediction bodies.",
            ("route", "agreed"),
            registry=r,
        )
        self.rollbacks = Counter(
            "proxy_rollbacks", "Automatic canary rollbacks.", ("route", "threshold"), registry=r
        )
        self.breaker_state = Gauge(
            "proxy_breaker_state",
            "Circuit breaker: 0 closed, 1 open, 2 half-open.",
            ("upstream",),
            registry=r,
        )
        self.table_version = Gauge(
            "proxy_route_table_version", "Version of the live route table.", registry=r
        )
        self.table_rejections = Counter(
            "proxy_route_table_rejections",
            "Route tables rejected, by origin.",
            ("origin",),
            registry=r,
        )
        self.canary_weight = Gauge(
            "proxy_canary_weight_percent", "Effective candidate weight.", ("route",), registry=r
        )
        self._children: dict[tuple[str, ...], tuple[Counter, Histogram]] = {}

    def exchange(self, route: str, upstream: str, side: str, status: int, seconds: float) -> None:
        """Count one answered exchange and its latency (the hot-path call)."""
        key = (route, upstream, side, str(status // 100))
        pair = self._children.get(key)
        if pair is None:
            cls = _CLASSES[status // 100 - 1] if 1 <= status // 100 <= 5 else "5xx"
            pair = (
                self.requests.labels(route, upstream, side, cls),
                self.latency.labels(route, upstream, side),
            )
            self._children[key] = pair
        pair[0].inc()
        pair[1].observe(seconds)

    def error(self, route: str, upstream: str, side: str, kind: str) -> None:
        self.errors.labels(route, upstream, side, kind).inc()


def child_count(metric: MetricWrapperBase) -> int:
    """How many label sets a metric has (for tests and sanity checks)."""
    return sum(len(m.samples) for m in metric.collect())
