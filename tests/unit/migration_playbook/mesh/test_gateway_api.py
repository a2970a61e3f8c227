"""Gateway API export: weights, mirror, matches, a Service or Gateway parent, and the
precedence and policy differences listed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from migration_playbook.mesh import ExportError, ExportOptions, GapKind, export_gateway_api
from migration_playbook.mesh.schemas import schema_errors
from strangler_proxy.route_table import RouteTable
from strangler_proxy.route_table.loader import parse_table


def _rules(export: Any) -> dict[str, dict[str, Any]]:
    return {rule["name"]: rule for rule in export.documents[0]["spec"]["rules"]}


def test_rules_weights_mirror_matches(table: RouteTable) -> None:
    rules = _rules(export_gateway_api(table))
    assert list(rules) == ["predictions", "models", "audit", "default"]
    canary = rules["predictions"]
    assert canary["backendRefs"] == [
        {"name": "monolith", "port": 5000, "weight": 90},
        {"name": "inference", "namespace": "risk", "port": 8102, "weight": 10},
    ]
    assert canary["matches"] == [
        {"path": {"type": "PathPrefix", "value": "/api/v1/predictions"}, "method": "POST"}
    ]
    assert canary["timeouts"] == {"request": "10s", "backendRequest": "10s"}
    shadow = rules["models"]
    assert shadow["filters"] == [
        {
            "type": "RequestMirror",
            "requestMirror": {
                "backendRef": {"name": "inference", "namespace": "risk", "port": 8102},
                "percent": 25,
            },
        }
    ]
    assert shadow["matches"][0]["headers"] == [
        {"type": "RegularExpression", "name": "x-account-id", "value": ".*"},
        {"type": "Exact", "name": "x-beta", "value": "yes"},
    ]
    audit = rules["audit"]
    assert audit["matches"] == [
        {
            "path": {"type": "RegularExpression", "value": "/api/v1/predictions/[^/]+/?"},
            "method": "GET",
            "queryParams": [{"type": "Exact", "name": "format", "value": "json"}],
        }
    ]
    assert rules["default"]["backendRefs"] == [{"name": "monolith", "port": 5000}]


def test_fractional_weight_and_sample_use_a_finer_scale(
    make_table: Callable[..., RouteTable],
) -> None:
    export = export_gateway_api(
        make_table({"predictions": {"weight": 12.5}, "models": {"sample_percent": 2.5}})
    )
    rules = _rules(export)
    assert [b["weight"] for b in rules["predictions"]["backendRefs"]] == [8750, 1250]
    mirror = rules["models"]["filters"][0]["requestMirror"]
    assert mirror["fraction"] == {"numerator": 250, "denominator": 10000}
    assert "percent" not in mirror


def test_parent_is_the_service_in_a_mesh_or_a_gateway(table: RouteTable) -> None:
    mesh = export_gateway_api(table, ExportOptions(host="api", host_port=8000))
    assert mesh.documents[0]["spec"]["parentRefs"] == [
        {"group": "", "kind": "Service", "name": "api", "port": 8000}
    ]
    assert "hostnames" not in mesh.documents[0]["spec"]
    edge = export_gateway_api(table, ExportOptions(host="risk.example.com", gateway="public"))
    assert edge.documents[0]["spec"]["parentRefs"] == [{"name": "public"}]
    assert edge.documents[0]["spec"]["hostnames"] == ["risk.example.com"]
    for export in (mesh, edge):
        assert schema_errors(export.documents[0]) == []


def test_gaps_name_what_the_standard_channel_lacks(table: RouteTable) -> None:
    gaps = {(g.route, g.feature): g.kind for g in export_gateway_api(table).gaps}
    for feature in ("retries", "breaker", "retry budget", "connections"):
        assert gaps[("(upstreams)", feature)] is GapKind.MISSING
    assert gaps[("predictions", "sticky split")] is GapKind.MISSING
    assert gaps[("models", "response comparison")] is GapKind.MISSING
    assert gaps[("audit", "regular expressions")] is GapKind.APPROXIMATED


def test_a_more_specific_later_route_is_a_precedence_gap() -> None:
    # GET /api/v1/x with X-Beta: yes goes to 'broad' in the table (first match); Gateway
    # API prefers the longer prefix over the header match and picks 'narrow'.
    table = parse_table(
        """
upstreams:
  a: {url: "http://a:80"}
  b: {url: "http://b:80"}
routes:
  - {name: broad, match: {path_prefix: /api, headers: {X-Beta: "yes"}}, mode: passthrough,
     primary: a}
  - {name: narrow, match: {path_prefix: /api/v1}, mode: passthrough, primary: b}
  - {name: other, match: {path_prefix: /admin/x}, mode: passthrough, primary: b}
default_upstream: a
"""
    )
    gaps = [g for g in export_gateway_api(table).gaps if g.feature == "precedence"]
    assert [(g.route, g.kind) for g in gaps] == [("narrow", GapKind.MISSING)]
    assert "'broad'" in gaps[0].detail


def test_disjoint_routes_have_no_precedence_gap(table: RouteTable) -> None:
    assert not [g for g in export_gateway_api(table).gaps if g.feature == "precedence"]


def test_a_host_that_is_not_a_service_is_refused() -> None:
    table = parse_table(
        "upstreams: {x: {url: 'http://api.example.com:443'}}\ndefault_upstream: x\n"
    )
    with pytest.raises(ExportError, match="not a Kubernetes Service name"):
        export_gateway_api(table)
