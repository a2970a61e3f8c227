"""A route table as a Gateway API ``gateway.networking.k8s.io/v1`` ``HTTPRoute``.

One rule per table route, then a catch-all rule for the default upstream. Gateway API
(standard channel) has weights, ``RequestMirror`` and timeouts; it has no retries, no
breaker and no connection settings, and it orders rules by how specific their matches are,
not by their position, so the export lists every pair of routes whose order would change.
"""

from __future__ import annotations

import re
from typing import Any

from migration_playbook.mesh.model import (
    Destination,
    ExportError,
    ExportOptions,
    Gap,
    GapKind,
    MeshExport,
    destinations,
    gateway_duration,
    metadata,
)
from migration_playbook.mesh.semantics import (
    AnyRoute,
    has_template,
    literal_head,
    proxy_only_gaps,
    template_regex,
    weights,
)
from strangler_proxy.route_table.models import CanaryRoute, Match, RouteTable, ShadowRoute

API_VERSION = "gateway.networking.k8s.io/v1"
#: Weights on a finer scale when a canary percentage is not whole (Gateway API allows up
#: to 1,000,000).
_FINE = 10_000
_SECTION = re.compile(r"[^a-z0-9-]+")


def _backend(target: Destination) -> dict[str, Any]:
    """A ``backendRef`` to the Service: ``name`` or ``name.namespace[.svc...]``."""
    labels = target.host.split(".")
    ref: dict[str, Any] = {"name": labels[0], "port": target.port}
    if len(labels) >= 2:
        if len(labels) > 2 and labels[2] != "svc":
            raise ExportError(
                f"{target.host} is not a Kubernetes Service name (NAME or NAME.NAMESPACE"
                "[.svc.cluster.local]); Gateway API routes to Services"
            )
        ref["namespace"] = labels[1]
    return ref


def _paths(match: Match) -> list[dict[str, str]]:
    if match.path_prefix is not None:  # Gateway API prefixes are segment-aware, as the proxy's
        return [{"type": "PathPrefix", "value": match.path_prefix.rstrip("/") or "/"}]
    path = match.path or "/"
    if has_template(match):
        return [{"type": "RegularExpression", "value": template_regex(path)}]
    bare = path.rstrip("/") or "/"
    if bare == "/":
        return [{"type": "Exact", "value": "/"}]
    return [{"type": "Exact", "value": bare}, {"type": "Exact", "value": bare + "/"}]


def _matches(match: Match) -> list[dict[str, Any]]:
    headers = [
        {"type": "RegularExpression", "name": k, "value": ".*"}
        if v == "*"
        else {"type": "Exact", "name": k, "value": v}
        for k, v in sorted(match.headers.items())
    ]
    query = [
        {"type": "RegularExpression", "name": k, "value": ".*"}
        if v == "*"
        else {"type": "Exact", "name": k, "value": v}
        for k, v in sorted(match.query.items())
    ]
    out = []
    for method in sorted(match.methods) if match.methods is not None else [None]:
        for path in _paths(match):
            entry: dict[str, Any] = {"path": path}
            if method:
                entry["method"] = method
            if headers:
                entry["headers"] = headers
            if query:
                entry["queryParams"] = query
            out.append(entry)
    return out


def _rule_name(name: str) -> str:
    return _SECTION.sub("-", name.lower()).strip("-")[:63] or "route"


def _rule(
    route: AnyRoute, table: RouteTable, targets: dict[str, Destination], gaps: list[Gap]
) -> dict[str, Any]:
    timeout = gateway_duration(table.upstreams[route.primary].timeout_s)
    rule: dict[str, Any] = {"name": _rule_name(route.name), "matches": _matches(route.match)}
    if isinstance(route, CanaryRoute):
        primary, candidate, exact = weights(route.weight, 100)
        if not exact:
            primary, candidate, _exact = weights(route.weight, _FINE)
        rule["backendRefs"] = [
            {**_backend(targets[route.primary]), "weight": primary},
            {**_backend(targets[route.candidate]), "weight": candidate},
        ]
    else:
        rule["backendRefs"] = [_backend(targets[route.primary])]
    if isinstance(route, ShadowRoute):
        mirror: dict[str, Any] = {"backendRef": _backend(targets[route.candidate])}
        if route.sample_percent == int(route.sample_percent):
            mirror["percent"] = int(route.sample_percent)
        else:
            mirror["fraction"] = {
                "numerator": round(route.sample_percent * 100),
                "denominator": 10_000,
            }
        rule["filters"] = [{"type": "RequestMirror", "requestMirror": mirror}]
    rule["timeouts"] = {"request": timeout, "backendRequest": timeout}
    if has_template(route.match) or "*" in (
        *route.match.headers.values(),
        *route.match.query.values(),
    ):
        gaps.append(
            Gap(
                route.name,
                "regular expressions",
                GapKind.APPROXIMATED,
                "a path template or a presence check becomes a RegularExpression match, "
                "whose support in Gateway API is implementation-specific",
            )
        )
    return rule


def _rank(match: Match) -> tuple[int, int, int, int, int] | None:
    """Gateway API's precedence of a match (higher wins); None: implementation-specific."""
    if has_template(match):
        return None
    if match.path is not None:
        path_rank, length = 2, len(match.path)
    else:
        path_rank, length = 1, len((match.path_prefix or "/").rstrip("/"))
    return (
        path_rank,
        length,
        1 if match.methods is not None else 0,
        len(match.headers),
        len(match.query),
    )


def _may_overlap(a: Match, b: Match) -> bool:
    """Whether one request could match both (conservative: True when unsure)."""
    if not (a.all_methods & b.all_methods):
        return False
    for key in set(a.headers) & set(b.headers):
        if "*" not in (a.headers[key], b.headers[key]) and a.headers[key] != b.headers[key]:
            return False
    for key in set(a.query) & set(b.query):
        if "*" not in (a.query[key], b.query[key]) and a.query[key] != b.query[key]:
            return False
    head_a, head_b = literal_head(a), literal_head(b)
    exact_a = a.path is not None and not has_template(a)
    exact_b = b.path is not None and not has_template(b)
    if exact_a and exact_b:
        return head_a.rstrip("/") == head_b.rstrip("/")
    if exact_a or exact_b:
        exact, other = (a, b) if exact_a else (b, a)
        path = (exact.path or "").rstrip("/")
        if has_template(other):
            return re.fullmatch(template_regex(other.path or ""), path) is not None
        prefix = literal_head(other)
        return prefix == "" or path == prefix or path.startswith(prefix + "/")
    return head_a.startswith(head_b) or head_b.startswith(head_a)


def _order_gaps(table: RouteTable) -> list[Gap]:
    gaps = []
    routes = list(table.routes)
    for i, first in enumerate(routes):
        for later in routes[i + 1 :]:
            if not _may_overlap(first.match, later.match):
                continue
            rank_first, rank_later = _rank(first.match), _rank(later.match)
            if rank_first is None or rank_later is None:
                gaps.append(
                    Gap(
                        later.name,
                        "precedence",
                        GapKind.APPROXIMATED,
                        f"overlaps {first.name!r} and one of them is a regular expression: "
                        "which wins is implementation-specific (in the table, "
                        f"{first.name!r} does)",
                    )
                )
            elif rank_later > rank_first:
                gaps.append(
                    Gap(
                        later.name,
                        "precedence",
                        GapKind.MISSING,
                        f"its match is more specific than {first.name!r}'s, so Gateway API "
                        f"sends requests both match here; the table sends them to {first.name!r}",
                    )
                )
    return gaps


_UPSTREAM_GAPS = (
    ("retries", "the standard channel has no retry policy: nothing is retried"),
    ("retry budget", "no equivalent"),
    (
        "breaker",
        "no outlier detection or breaker in the standard channel (an implementation's own "
        "policy resource, e.g. an Istio DestinationRule, can add one)",
    ),
    ("connections", "connect_timeout_s and max_connections have no equivalent"),
)


def export_gateway_api(table: RouteTable, options: ExportOptions | None = None) -> MeshExport:
    """One ``HTTPRoute`` (with a Gateway parent, or a Service parent for a mesh)."""
    options = options or ExportOptions()
    targets = destinations(table, options)
    gaps: list[Gap] = []
    rules = [_rule(route, table, targets, gaps) for route in table.routes]
    default_timeout = gateway_duration(table.upstreams[table.default_upstream].timeout_s)
    rules.append(
        {
            "name": "default",
            "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
            "backendRefs": [_backend(targets[table.default_upstream])],
            "timeouts": {"request": default_timeout, "backendRequest": default_timeout},
        }
    )
    if len(rules) > 16:
        raise ExportError(f"{len(rules)} rules: an HTTPRoute holds at most 16")
    spec: dict[str, Any] = {"rules": rules}
    if options.gateway:
        spec["parentRefs"] = [{"name": options.gateway}]
        spec["hostnames"] = [options.host]
    else:  # GAMMA: the route attaches to the Service clients call
        spec["parentRefs"] = [
            {"group": "", "kind": "Service", "name": options.host, "port": options.host_port}
        ]
    document = {
        "apiVersion": API_VERSION,
        "kind": "HTTPRoute",
        "metadata": metadata(options.name, options),
        "spec": spec,
    }
    gaps = proxy_only_gaps(table) + _order_gaps(table) + gaps
    gaps += [Gap("(upstreams)", f, GapKind.MISSING, d) for f, d in _UPSTREAM_GAPS]
    return MeshExport("gateway-api", [document], gaps)
