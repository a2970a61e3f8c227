"""Istio export: the resources carry the table's routing, in the proxy's order, and every
behaviour they cannot carry is listed."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from migration_playbook.mesh import ExportError, ExportOptions, GapKind, export_istio
from migration_playbook.mesh.schemas import schema_errors
from strangler_proxy.matching import Router
from strangler_proxy.route_table import RouteTable
from strangler_proxy.route_table.loader import parse_table


def _string_ok(spec: dict[str, str], value: str | None) -> bool:
    if value is None:
        return False
    if not spec:  # {}: presence
        return True
    if "exact" in spec:
        return value == spec["exact"]
    if "prefix" in spec:
        return value.startswith(spec["prefix"])
    return re.fullmatch(spec["regex"], value) is not None  # Envoy: whole-string RE2


def _istio_pick(
    http: list[dict[str, Any]],
    method: str,
    path: str,
    headers: dict[str, str],
    query: dict[str, str],
) -> dict[str, Any]:
    """Istio's choice: the first ``http`` entry with a matching condition (or none)."""
    for entry in http:
        conditions = entry.get("match") or [{}]
        for cond in conditions:
            if "uri" in cond and not _string_ok(cond["uri"], path):
                continue
            if "method" in cond and not _string_ok(cond["method"], method):
                continue
            if any(not _string_ok(s, headers.get(k)) for k, s in cond.get("headers", {}).items()):
                continue
            if any(not _string_ok(s, query.get(k)) for k, s in cond.get("queryParams", {}).items()):
                continue
            return entry
    raise AssertionError(f"no entry for {method} {path}")


def _virtual_service(documents: list[dict[str, Any]]) -> dict[str, Any]:
    return next(d for d in documents if d["kind"] == "VirtualService")


REQUESTS = [
    ("POST", "/api/v1/predictions", {}, {}),
    ("POST", "/api/v1/predictions/", {}, {}),
    ("POST", "/api/v1/predictions/batch", {}, {}),
    ("POST", "/api/v1/predictionsx", {}, {}),
    ("GET", "/api/v1/predictions/abc", {}, {"format": "json"}),
    ("GET", "/api/v1/predictions/abc", {}, {}),
    ("GET", "/api/v1/predictions/abc/more", {}, {"format": "json"}),
    ("GET", "/api/v1/models", {"x-beta": "yes", "x-account-id": "a1"}, {}),
    ("DELETE", "/api/v1/models/m1", {"x-beta": "yes", "x-account-id": "a1"}, {}),
    ("GET", "/api/v1/models", {"x-beta": "no", "x-account-id": "a1"}, {}),
    ("GET", "/api/v1/models", {"x-beta": "yes"}, {}),
    ("GET", "/healthz", {}, {}),
    ("PATCH", "/anything", {}, {}),
]


@pytest.mark.parametrize(("method", "path", "headers", "query"), REQUESTS)
def test_every_request_reaches_the_route_the_proxy_picks(
    table: RouteTable, method: str, path: str, headers: dict[str, str], query: dict[str, str]
) -> None:
    http = _virtual_service(export_istio(table).documents)["spec"]["http"]
    entry = _istio_pick(http, method, path, headers, query)
    pairs = [(k.encode(), v.encode()) for k, v in headers.items()]
    qs = "&".join(f"{k}={v}" for k, v in query.items()).encode()
    route = Router(table).match(method, path, pairs, qs)
    expected = route.name if route is not None else "default"
    assert entry["name"].removesuffix("-no-retry") == expected


def test_weights_mirror_retries_timeouts(table: RouteTable) -> None:
    http = {e["name"]: e for e in _virtual_service(export_istio(table).documents)["spec"]["http"]}
    canary = http["predictions"]
    assert [(d["destination"]["host"], d["weight"]) for d in canary["route"]] == [
        ("monolith", 90),
        ("inference.risk.svc.cluster.local", 10),
    ]
    assert canary["route"][1]["destination"]["port"] == {"number": 8102}
    assert canary["retries"] == {"attempts": 0}  # POST is never retried, as in the proxy
    assert canary["timeout"] == "10s"
    shadow = http["models"]
    assert shadow["mirror"] == {
        "host": "inference.risk.svc.cluster.local",
        "port": {"number": 8102},
    }
    assert shadow["mirrorPercentage"] == {"value": 25.0}
    assert shadow["match"][0]["headers"] == {"x-account-id": {}, "x-beta": {"exact": "yes"}}
    # the shadow route takes every method: idempotent ones are retried, the rest not
    assert shadow["retries"]["attempts"] == 1
    assert http["models-no-retry"]["retries"] == {"attempts": 0}
    assert "method" not in http["models-no-retry"]["match"][0]
    audit = http["audit"]
    assert audit["retries"] == {
        "attempts": 2,
        "perTryTimeout": "2s",
        "retryOn": "connect-failure,refused-stream,gateway-error",
        "backoff": "0.05s",
    }
    assert audit["timeout"] == "6s"
    assert audit["match"][0]["queryParams"] == {"format": {"exact": "json"}}


def test_destination_rules_carry_breaker_pool_and_budget(table: RouteTable) -> None:
    rules = {
        d["spec"]["host"]: d["spec"]["trafficPolicy"]
        for d in export_istio(table).documents
        if d["kind"] == "DestinationRule"
    }
    assert rules["monolith"]["outlierDetection"]["consecutive5xxErrors"] == 7
    assert rules["monolith"]["outlierDetection"]["baseEjectionTime"] == "30s"
    inference = rules["inference.risk.svc.cluster.local"]
    assert inference["connectionPool"]["tcp"] == {"connectTimeout": "0.5s", "maxConnections": 50}
    assert inference["retryBudget"] == {"percent": 10.0, "minRetryConcurrency": 4}


def test_what_istio_cannot_hold_is_listed(table: RouteTable) -> None:
    gaps = {(g.route, g.feature): g.kind for g in export_istio(table).gaps}
    assert gaps[("predictions", "sticky split")] is GapKind.MISSING
    assert gaps[("predictions", "SLO rollback")] is GapKind.MISSING
    assert gaps[("predictions", "fallback")] is GapKind.MISSING
    assert gaps[("models", "response comparison")] is GapKind.MISSING
    assert gaps[("models", "dry-run marking")] is GapKind.MISSING
    assert gaps[("predictions", "per-upstream timeout and retries")] is GapKind.APPROXIMATED
    assert ("audit", "fallback") not in gaps


def test_a_fractional_weight_is_rounded_and_said(make_table: Callable[..., RouteTable]) -> None:
    export = export_istio(make_table({"predictions": {"weight": 12.5}}))
    weights = [d["weight"] for d in _virtual_service(export.documents)["spec"]["http"][0]["route"]]
    assert weights == [88, 12]
    assert any(g.feature == "weight" and "12.5" in g.detail for g in export.gaps)


def test_every_document_is_valid_against_the_istio_crds(table: RouteTable) -> None:
    options = ExportOptions(name="risk", namespace="risk", host="api.example.com", gateway="edge")
    export = export_istio(table, options)
    assert [d["kind"] for d in export.documents] == [
        "DestinationRule",
        "DestinationRule",
        "VirtualService",
    ]
    for document in export.documents:
        assert schema_errors(document) == []
    vs = _virtual_service(export.documents)
    assert vs["spec"]["gateways"] == ["edge"]
    assert vs["metadata"]["namespace"] == "risk"


def test_an_address_is_not_a_service_unless_mapped() -> None:
    local = parse_table(
        "upstreams: {monolith: {url: 'http://127.0.0.1:5000'}}\ndefault_upstream: monolith\n"
    )
    with pytest.raises(ExportError, match="--service monolith=HOST:PORT"):
        export_istio(local)
    mapped = export_istio(local, ExportOptions(services={"monolith": "legacy:8080"}))
    http = _virtual_service(mapped.documents)["spec"]["http"]
    assert http[0]["route"][0]["destination"] == {"host": "legacy", "port": {"number": 8080}}
