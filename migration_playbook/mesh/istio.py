"""A route table as Istio ``networking.istio.io/v1`` resources.

One ``VirtualService`` holds the routes in table order (Istio, like the proxy, takes the
first ``http`` entry that matches) and one ``DestinationRule`` per upstream Service holds
its connection pool, retry budget and breaker (outlier detection). Retries follow the
proxy: only idempotent methods are retried, so a route that takes both kinds becomes two
entries, the second with ``attempts: 0`` (Istio retries every method by default).
"""

from __future__ import annotations

from typing import Any

from migration_playbook.mesh.model import (
    Destination,
    ExportOptions,
    Gap,
    GapKind,
    MeshExport,
    destinations,
    metadata,
    protobuf_duration,
)
from migration_playbook.mesh.semantics import (
    ISTIO_RETRY_ON,
    AnyRoute,
    has_template,
    method_groups,
    proxy_only_gaps,
    template_regex,
    weights,
)
from strangler_proxy.route_table.models import (
    CanaryRoute,
    Match,
    RouteTable,
    ShadowRoute,
    Upstream,
)

API_VERSION = "networking.istio.io/v1"


def _dest(target: Destination) -> dict[str, Any]:
    return {"host": target.host, "port": {"number": target.port}}


def _uris(match: Match) -> list[dict[str, str]]:
    if match.path_prefix is not None:
        prefix = match.path_prefix.rstrip("/")
        if not prefix:
            return [{"prefix": "/"}]
        return [{"exact": prefix}, {"prefix": prefix + "/"}]
    path = match.path or "/"
    if has_template(match):
        return [{"regex": template_regex(path)}]
    bare = path.rstrip("/") or "/"
    return [{"exact": bare}] if bare == "/" else [{"exact": bare}, {"exact": bare + "/"}]


def _method(methods: frozenset[str] | None) -> dict[str, str] | None:
    if methods is None:
        return None
    ordered = sorted(methods)
    return {"exact": ordered[0]} if len(ordered) == 1 else {"regex": "|".join(ordered)}


def _matches(match: Match | None, methods: frozenset[str] | None) -> list[dict[str, Any]]:
    method = _method(methods)
    if match is None:
        return [{"method": method}] if method else []
    out = []
    for uri in _uris(match):
        entry: dict[str, Any] = {"uri": uri}
        if method:
            entry["method"] = method
        if match.headers:
            entry["headers"] = {
                k: ({} if v == "*" else {"exact": v}) for k, v in sorted(match.headers.items())
            }
        if match.query:
            entry["queryParams"] = {
                k: ({"regex": ".*"} if v == "*" else {"exact": v})
                for k, v in sorted(match.query.items())
            }
        out.append(entry)
    return out


def _retries(spec: Upstream, retry: bool) -> dict[str, Any]:
    if not retry or spec.retry.attempts <= 1:
        return {"attempts": 0}
    out: dict[str, Any] = {
        "attempts": spec.retry.attempts - 1,  # Istio counts retries, the table attempts
        "perTryTimeout": protobuf_duration(spec.timeout_s),
        "retryOn": ISTIO_RETRY_ON,
    }
    if spec.retry.backoff_s >= 0.001:
        out["backoff"] = protobuf_duration(spec.retry.backoff_s)
    return out


def _split(route: AnyRoute | None, default: str, gaps: list[Gap]) -> list[tuple[str, int]]:
    """(upstream name, weight) of each destination of a route (the default: ``None``)."""
    if isinstance(route, CanaryRoute):
        primary, candidate, exact = weights(route.weight, 100)
        if not exact:
            gaps.append(
                Gap(
                    route.name,
                    "weight",
                    GapKind.APPROXIMATED,
                    f"{route.weight:g} % rounded to {candidate} % (Istio weights are integers)",
                )
            )
        return [(route.primary, primary), (route.candidate, candidate)]
    return [(route.primary if route is not None else default, 100)]


def _entries(
    route: AnyRoute | None,
    table: RouteTable,
    targets: dict[str, Destination],
    gaps: list[Gap],
) -> list[dict[str, Any]]:
    name = route.name if route is not None else "default"
    primary = route.primary if route is not None else table.default_upstream
    spec = table.upstreams[primary]
    split = _split(route, table.default_upstream, gaps)
    destinations_ = []
    for upstream, weight in split:
        dest: dict[str, Any] = {"destination": _dest(targets[upstream])}
        if len(split) > 1:
            dest["weight"] = weight
        destinations_.append(dest)
    base: dict[str, Any] = {"route": destinations_}
    if isinstance(route, ShadowRoute):
        base["mirror"] = _dest(targets[route.candidate])
        base["mirrorPercentage"] = {"value": route.sample_percent}
    idempotent, rest = method_groups(route.match.methods if route is not None else None)
    match = route.match if route is not None else None
    entries = []
    if idempotent and spec.retry.attempts > 1:
        entries.append(
            {
                "name": name,
                "match": _matches(match, idempotent),
                **base,
                "timeout": protobuf_duration(spec.timeout_s * spec.retry.attempts),
                "retries": _retries(spec, True),
            }
        )
        if rest is None or rest:
            entries.append(
                {
                    "name": f"{name}-no-retry",
                    "match": _matches(match, rest),
                    **base,
                    "timeout": protobuf_duration(spec.timeout_s),
                    "retries": _retries(spec, False),
                }
            )
    else:
        methods = route.match.methods if route is not None else None
        entries.append(
            {
                "name": name,
                "match": _matches(match, frozenset(methods) if methods else None),
                **base,
                "timeout": protobuf_duration(spec.timeout_s),
                "retries": _retries(spec, False),
            }
        )
    for entry in entries:
        if not entry["match"]:
            del entry["match"]  # a catch-all entry has no match
    return entries


def _candidate_differences(route: AnyRoute, table: RouteTable) -> list[Gap]:
    if not isinstance(route, CanaryRoute):
        return []
    primary, candidate = table.upstreams[route.primary], table.upstreams[route.candidate]
    if (primary.timeout_s, primary.retry) == (candidate.timeout_s, candidate.retry):
        return []
    return [
        Gap(
            route.name,
            "per-upstream timeout and retries",
            GapKind.APPROXIMATED,
            f"Istio sets timeout and retries per route: both sides get {route.primary!r}'s "
            f"({primary.timeout_s:g} s, {primary.retry.attempts} attempts), "
            f"not {route.candidate!r}'s ({candidate.timeout_s:g} s, "
            f"{candidate.retry.attempts} attempts)",
        )
    ]


def _destination_rule(
    name: str, spec: Upstream, target: Destination, options: ExportOptions
) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "DestinationRule",
        "metadata": metadata(f"{options.name}-{name}", options),
        "spec": {
            "host": target.host,
            "trafficPolicy": {
                "connectionPool": {
                    "tcp": {
                        "connectTimeout": protobuf_duration(spec.connect_timeout_s),
                        "maxConnections": spec.max_connections,
                    }
                },
                "retryBudget": {
                    "percent": round(spec.retry.budget_ratio * 100, 6),
                    "minRetryConcurrency": spec.retry.min_retries,
                },
                "outlierDetection": {
                    "consecutive5xxErrors": spec.breaker.failure_threshold,
                    "interval": "1s",
                    "baseEjectionTime": protobuf_duration(spec.breaker.open_s),
                    "maxEjectionPercent": 100,
                },
            },
        },
    }


_UPSTREAM_GAPS = (
    (
        "retry budget",
        "the proxy allows budget_ratio retries per original request over time (a token "
        "bucket); Istio's retryBudget caps concurrent retries as a percentage of active "
        "requests",
    ),
    (
        "breaker",
        "the proxy opens one breaker for the whole upstream after failure_threshold "
        "consecutive failures; outlier detection ejects single pods after that many 5xx "
        "(connect failures and timeouts count as 5xx) for baseEjectionTime",
    ),
    (
        "timeouts",
        "timeout_s is the proxy's read timeout per attempt: exported as perTryTimeout, with "
        "a route timeout of timeout_s x attempts (no allowance for backoff)",
    ),
)


def export_istio(table: RouteTable, options: ExportOptions | None = None) -> MeshExport:
    """``DestinationRule`` per upstream Service (apply first), then the ``VirtualService``."""
    options = options or ExportOptions()
    targets = destinations(table, options)
    gaps: list[Gap] = []
    documents: list[dict[str, Any]] = []
    seen_hosts: dict[str, str] = {}
    for name, spec in table.upstreams.items():
        host = targets[name].host
        if host in seen_hosts:
            gaps.append(
                Gap(
                    "(upstreams)",
                    "shared Service",
                    GapKind.APPROXIMATED,
                    f"{name} and {seen_hosts[host]} are both {host}: one DestinationRule, "
                    f"{seen_hosts[host]}'s policy",
                )
            )
            continue
        seen_hosts[host] = name
        documents.append(_destination_rule(name, spec, targets[name], options))
    http: list[dict[str, Any]] = []
    for route in table.routes:
        http += _entries(route, table, targets, gaps)
        gaps += _candidate_differences(route, table)
    http += _entries(None, table, targets, gaps)
    vs_spec: dict[str, Any] = {"hosts": [options.host], "http": http}
    if options.gateway:
        vs_spec["gateways"] = [options.gateway]
    documents.append(
        {
            "apiVersion": API_VERSION,
            "kind": "VirtualService",
            "metadata": metadata(options.name, options),
            "spec": vs_spec,
        }
    )
    gaps = proxy_only_gaps(table) + gaps
    gaps += [Gap("(upstreams)", f, GapKind.APPROXIMATED, d) for f, d in _UPSTREAM_GAPS]
    return MeshExport("istio", documents, gaps)
