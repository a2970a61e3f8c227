"""A route table with every mode and match kind, upstreams named as in-cluster Services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from strangler_proxy.route_table import RouteTable
from strangler_proxy.route_table.loader import parse_table

TABLE = """
upstreams:
  monolith: {url: "http://monolith:5000", timeout_s: 10.0,
             breaker: {failure_threshold: 7, open_s: 30}}
  inference:
    url: "http://inference.risk.svc.cluster.local:8102"
    timeout_s: 2.0
    connect_timeout_s: 0.5
    max_connections: 50
    dry_run: true
    retry: {attempts: 3, backoff_s: 0.05, budget_ratio: 0.1, min_retries: 4}
routes:
  - name: predictions
    match: {path_prefix: /api/v1/predictions, methods: [POST]}
    mode: canary
    primary: monolith
    candidate: inference
    weight: 10
    sticky_key: header:X-Account-Id
    fallback: monolith
    rollback: {max_error_rate: 0.01, max_p99_ms: 250, window_s: 30, min_requests: 50}
  - name: models
    match: {path_prefix: /api/v1/models, headers: {X-Beta: "yes", X-Account-Id: "*"}}
    mode: shadow
    primary: monolith
    candidate: inference
    sample_percent: 25
  - name: audit
    match: {path: "/api/v1/predictions/{prediction_id}", methods: [GET],
            query: {format: json}}
    mode: passthrough
    primary: inference
default_upstream: monolith
"""


@pytest.fixture
def make_table() -> Callable[..., RouteTable]:
    """The table above, with top-level keys or a route's fields replaced."""

    def make(route_overrides: dict[str, dict[str, Any]] | None = None) -> RouteTable:
        import yaml

        raw = yaml.safe_load(TABLE)
        for route in raw["routes"]:
            route.update((route_overrides or {}).get(route["name"], {}))
        return parse_table(yaml.safe_dump(raw), "test")

    return make


@pytest.fixture
def table(make_table: Callable[..., RouteTable]) -> RouteTable:
    return make_table()
