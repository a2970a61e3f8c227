"""Metrics and structured logs for the monolith.

Prometheus metrics live in a registry owned by the application (not the process-global
one), so several apps in one test process do not collide. Logs are JSON lines carrying the
trace id of the request's W3C ``traceparent``.
"""

from __future__ import annotations

import json
import logging
import time
from contextvars import ContextVar

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

_trace_id: ContextVar[str] = ContextVar("trace_id", default="")


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


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request's trace id when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if trace_id := _trace_id.get():
            entry["trace_id"] = trace_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(json_lines: bool, level: str) -> None:
    """Configure the root logger once per process."""
    root = logging.getLogger()
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if json_lines else logging.Formatter("%(levelname)s %(name)s %(message)s")
    )
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def _trace_id_of(traceparent: str | None) -> str:
    if traceparent:
        parts = traceparent.split("-")
        if len(parts) == 4 and len(parts[1]) == 32:
            return parts[1]
    return ""


def init_app(app: Flask, metrics: Metrics) -> None:
    """Time every request, count it by endpoint, and bind its trace id to the logs."""

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        g.trace_token = _trace_id.set(_trace_id_of(request.headers.get("traceparent")))

    @app.after_request
    def _finish(response: Response) -> Response:
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        started = g.pop("started", None)
        if started is not None:
            metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
        metrics.requests.labels(endpoint, request.method, str(response.status_code)).inc()
        token = g.pop("trace_token", None)
        if token is not None:
            _trace_id.reset(token)
        return response
