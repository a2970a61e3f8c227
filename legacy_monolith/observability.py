"""Metrics for the monolith, and the request's trace id bound for its log lines.

Prometheus metrics live in a registry owned by the application (not the process-global
one), so several apps in one test process do not collide. The log lines themselves are
``service_runtime.logging``'s JSON, which reads the bound ``traceparent``.
"""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from service_runtime.logging import bind_traceparent, unbind_traceparent


class Metrics:
    """The monolith's Prometheus metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "monolith_http_requests_total",
            "HTTP requests by endpoint, method and status.",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "monolith_http_request_duration_seconds",
            "HTTP request latency by endpoint.",
            ["endpoint"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        self.predictions = Counter(
            "monolith_predictions_total",
            "Scored transactions by decision.",
            ["decision"],
            registry=self.registry,
        )
        self.ingested = Counter(
            "monolith_transactions_ingested_total",
            "Transactions stored (duplicates excluded).",
            registry=self.registry,
        )
        self.model_version = Gauge(
            "monolith_model_version",
            "The model version in use (0 when none serves).",
            registry=self.registry,
        )
        self.training_runs = Counter(
            "monolith_training_runs_total",
            "Finished training runs by outcome.",
            ["status"],
            registry=self.registry,
        )

    def render(self) -> Response:
        return Response(generate_latest(self.registry), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask, metrics: Metrics) -> None:
    """Time every request, count it by endpoint, and bind its trace id to the logs."""

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        g.trace_token = bind_traceparent(request.headers.get("traceparent"))

    @app.after_request
    def _finish(response: Response) -> Response:
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        started = g.pop("started", None)
        if started is not None:
            metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
        metrics.requests.labels(endpoint, request.method, str(response.status_code)).inc()
        token = g.pop("trace_token", None)
        if token is not None:
            unbind_traceparent(token)
        return response
