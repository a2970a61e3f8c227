"""Semantic lint of a route table: what pydantic's per-field validation cannot see.

Errors block a table (unknown upstreams, duplicate names, unreachable routes, shadowing
non-idempotent requests to a candidate without dry-run); warnings are shown by
``kit routes lint`` but do not block (overlaps resolved by order, odd fallbacks).
"""

from __future__ import annotations

from strangler_proxy.errors import TableIssue
from strangler_proxy.route_table.models import (
    IDEMPOTENT_METHODS,
    READ_METHODS,
    Match,
    RouteTable,
    ShadowRoute,
)


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _is_var(segment: str) -> bool:
    return segment.startswith("{")


def _path_covers(a: Match, b: Match) -> bool:
    """Every path ``b`` matches is matched by ``a``."""
    if a.path_prefix is not None:
        pa = _segments(a.path_prefix)
        pb = _segments(b.path_prefix if b.path_prefix is not None else b.path or "")
        if len(pb) < len(pa):
            return False
        return all(x == y for x, y in zip(pa, pb, strict=False))
    if b.path is None:  # a template never covers a prefix (prefixes are unbounded)
        return False
    ta, tb = _segments(a.path or ""), _segments(b.path)
    if len(ta) != len(tb):
        return False
    return all(_is_var(x) or (x == y and not _is_var(y)) for x, y in zip(ta, tb, strict=True))


def _paths_overlap(a: Match, b: Match) -> bool:
    def compatible(x: str, y: str) -> bool:
        return _is_var(x) or _is_var(y) or x == y

    sa = _segments(a.path_prefix if a.path_prefix is not None else a.path or "")
    sb = _segments(b.path_prefix if b.path_prefix is not None else b.path or "")
    if a.path_prefix is not None and b.path_prefix is not None:
        return all(x == y for x, y in zip(sa, sb, strict=False))
    if a.path is not None and b.path is not None:
        return len(sa) == len(sb) and all(compatible(x, y) for x, y in zip(sa, sb, strict=True))
    prefix, template = (sa, sb) if a.path_prefix is not None else (sb, sa)
    return len(template) >= len(prefix) and all(
        compatible(x, y) for x, y in zip(prefix, template, strict=False)
    )


def _constraints_cover(a: dict[str, str], b: dict[str, str]) -> bool:
    return all(k in b and (v == "*" or v == b[k]) for k, v in a.items())


def _constraints_overlap(a: dict[str, str], b: dict[str, str]) -> bool:
    return all(a[k] == "*" or b[k] == "*" or a[k] == b[k] for k in a.keys() & b.keys())


def covers(a: Match, b: Match) -> bool:
    """``a`` matches every request ``b`` matches (so ``b`` after ``a`` is unreachable)."""
    return (
        _path_covers(a, b)
        and a.all_methods >= b.all_methods
        and _constraints_cover(a.headers, b.headers)
        and _constraints_cover(a.query, b.query)
    )


def overlaps(a: Match, b: Match) -> bool:
    """Some request could match both."""
    return (
        _paths_overlap(a, b)
        and bool(a.all_methods & b.all_methods)
        and _constraints_overlap(a.headers, b.headers)
        and _constraints_overlap(a.query, b.query)
    )


def lint_table(table: RouteTable, source: str = "<table>") -> list[TableIssue]:
    """Every semantic problem, errors first in table order, then warnings."""
    issues: list[TableIssue] = []
    known = set(table.upstreams)
    if table.default_upstream not in known:
        issues.append(
            TableIssue(
                source,
                None,
                "default_upstream",
                f"unknown upstream '{table.default_upstream}' (known: {', '.join(sorted(known))})",
            )
        )
    seen: dict[str, int] = {}
    for index, route in enumerate(table.routes):
        if route.name in seen:
            issues.append(
                TableIssue(
                    source,
                    route.name,
                    "name",
                    f"duplicate route name (also route #{seen[route.name] + 1})",
                )
            )
        else:
            seen[route.name] = index
        for field, ref in route.upstream_refs.items():
            if ref not in known:
                issues.append(
                    TableIssue(
                        source,
                        route.name,
                        field,
                        f"unknown upstream '{ref}' (known: {', '.join(sorted(known))})",
                    )
                )
        candidate = getattr(route, "candidate", None)
        if candidate is not None and candidate == route.primary:
            issues.append(
                TableIssue(
                    source, route.name, "candidate", "candidate is the primary itself", "warning"
                )
            )
        if route.fallback is not None and route.fallback == candidate:
            issues.append(
                TableIssue(
                    source, route.name, "fallback", "fallback is the candidate itself", "warning"
                )
            )
        if route.read_fallback is not None:
            if not route.match.all_methods & READ_METHODS:
                issues.append(
                    TableIssue(
                        source,
                        route.name,
                        "read_fallback",
                        "read_fallback applies to GET and HEAD only; the route matches neither",
                    )
                )
            elif route.read_fallback == route.primary:
                issues.append(
                    TableIssue(
                        source,
                        route.name,
                        "read_fallback",
                        "read_fallback is the primary itself (never asked)",
                        "warning",
                    )
                )
        if isinstance(route, ShadowRoute):
            unsafe = sorted(route.match.all_methods - IDEMPOTENT_METHODS)
            upstream = table.upstreams.get(route.candidate)
            if unsafe and upstream is not None and not upstream.dry_run:
                issues.append(
                    TableIssue(
                        source,
                        route.name,
                        "candidate",
                        f"shadows non-idempotent {'/'.join(unsafe)} requests to "
                        f"'{route.candidate}', which does not declare dry_run: true "
                        "(restrict match.methods or declare a dry-run candidate)",
                    )
                )
        for earlier in table.routes[:index]:
            if covers(earlier.match, route.match):
                issues.append(
                    TableIssue(
                        source,
                        route.name,
                        "match",
                        f"unreachable: route '{earlier.name}' comes first and matches "
                        "every request this route matches",
                    )
                )
                break
            if overlaps(earlier.match, route.match):
                issues.append(
                    TableIssue(
                        source,
                        route.name,
                        "match",
                        f"overlaps route '{earlier.name}', which comes first and wins "
                        "where both match",
                        "warning",
                    )
                )
    return sorted(issues, key=lambda i: i.severity != "error")
