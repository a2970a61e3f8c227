"""What every platform export shares: the table's paths, methods and splits in mesh terms,
and the behaviour of the kit's proxy that no mesh resource holds.

Paths follow the proxy's matcher (``strangler_proxy.matching``): a ``path_prefix`` is
segment-aware (``/a/b`` matches ``/a/b`` and ``/a/b/c``, never ``/a/bc``), a ``path`` matches
with or without one trailing slash, and a ``{var}`` segment is one non-empty segment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from migration_playbook.mesh.model import Gap, GapKind
from strangler_proxy.route_table.models import (
    IDEMPOTENT_METHODS,
    CanaryRoute,
    Match,
    PassthroughRoute,
    RouteTable,
    ShadowRoute,
)

AnyRoute = PassthroughRoute | ShadowRoute | CanaryRoute
PathKind = Literal["exact", "prefix", "regex"]
#: The failures the proxy retries (``strangler_proxy.resilience``): no connection, a reset
#: stream, 502/503/504 (Envoy's ``gateway-error``).
ISTIO_RETRY_ON = "connect-failure,refused-stream,gateway-error"


@dataclass(frozen=True, slots=True)
class PathSpec:
    kind: PathKind
    value: str


def has_template(match: Match) -> bool:
    return match.path is not None and "{" in match.path


def template_regex(path: str) -> str:
    """RE2 for a path template, whole-string (as Envoy and Gateway API match regexes)."""
    parts = ["[^/]+" if s.startswith("{") else re.escape(s) for s in path.split("/")]
    return "/".join(parts) + "/?"


def literal_head(match: Match) -> str:
    """The path's literal start: the prefix, or a template up to its first variable."""
    if match.path_prefix is not None:
        return match.path_prefix.rstrip("/")
    path = match.path or ""
    return path.split("{", 1)[0]


def weights(candidate_percent: float, total: int) -> tuple[int, int, bool]:
    """(primary, candidate, exact) integer weights summing to ``total`` (100 or a finer
    scale); ``exact`` is False when the percentage had to be rounded."""
    candidate = round(candidate_percent * total / 100)
    exact = abs(candidate * 100 / total - candidate_percent) < 1e-9
    return total - candidate, candidate, exact


def method_groups(methods: tuple[str, ...] | None) -> tuple[frozenset[str], frozenset[str] | None]:
    """(idempotent, the rest) of a route's methods. The rest is None when the route takes
    every method (the rest is then "anything not idempotent", matched without a method
    condition after the idempotent entry)."""
    if methods is None:
        return frozenset(IDEMPOTENT_METHODS), None
    chosen = frozenset(methods)
    return chosen & IDEMPOTENT_METHODS, chosen - IDEMPOTENT_METHODS


def sends_unsafe_methods(match: Match) -> bool:
    return bool(match.all_methods - IDEMPOTENT_METHODS) or match.methods is None


def proxy_only_gaps(table: RouteTable) -> list[Gap]:
    """The proxy's behaviour that neither Istio nor Gateway API can hold, route by route."""
    gaps: list[Gap] = []
    for route in table.routes:
        name = route.name
        if route.fallback is not None:
            gaps.append(
                Gap(
                    name,
                    "fallback",
                    GapKind.MISSING,
                    f"a failed request is not re-sent to {route.fallback!r}; the mesh returns "
                    "the failure (its retries stay on the same Service)",
                )
            )
        if route.read_fallback is not None:
            gaps.append(
                Gap(
                    name,
                    "read_fallback",
                    GapKind.MISSING,
                    f"a read the primary answers 404 is not asked of {route.read_fallback!r}; "
                    "the client gets the 404",
                )
            )
        if isinstance(route, ShadowRoute):
            gaps.append(
                Gap(
                    name,
                    "response comparison",
                    GapKind.MISSING,
                    f"the mirror's answer from {route.candidate!r} is dropped: no mismatch "
                    "rate, no decision agreement, so the kit's shadow gate has nothing to read",
                )
            )
            if sends_unsafe_methods(route.match):
                gaps.append(
                    Gap(
                        name,
                        "dry-run marking",
                        GapKind.MISSING,
                        "the proxy marks a shadow copy of a non-idempotent request "
                        "'X-Dry-Run: true' (and 'X-Shadow-Request: true'); a mesh mirror sends "
                        f"it unmarked, so {route.candidate!r} performs its side effects",
                    )
                )
        if isinstance(route, CanaryRoute):
            if route.sticky_key is not None:
                gaps.append(
                    Gap(
                        name,
                        "sticky split",
                        GapKind.MISSING,
                        f"the proxy hashes {route.sticky_key} onto one side of the split; a "
                        "mesh picks the weighted destination per request (consistent hashing "
                        "only picks a pod inside one Service)",
                    )
                )
            if route.rollback is not None:
                spec = route.rollback
                gaps.append(
                    Gap(
                        name,
                        "SLO rollback",
                        GapKind.MISSING,
                        f"the proxy sets the weight to 0 when the candidate breaks "
                        f"error rate {spec.max_error_rate:g} or p99 {spec.max_p99_ms:g} ms over "
                        f"{spec.window_s:g} s; the mesh keeps the weight (a progressive-delivery "
                        "controller or the kit must roll it back)",
                    )
                )
    return gaps
