"""A readable difference between two route tables, for history entries and ``kit routes diff``."""

from __future__ import annotations

from typing import Any

from strangler_proxy.route_table.models import RouteTable


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def _changes(kind: str, name: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    a, b = _flatten(old), _flatten(new)
    lines = []
    for key in sorted(a.keys() | b.keys()):
        if a.get(key) != b.get(key):
            lines.append(f"~ {kind} '{name}': {key}: {a.get(key)!r} -> {b.get(key)!r}")
    return lines


def diff_tables(old: RouteTable | None, new: RouteTable) -> list[str]:
    """One line per change: ``+`` added, ``-`` removed, ``~`` changed (field: old -> new)."""
    if old is None:
        return [f"+ initial table: {len(new.upstreams)} upstreams, {len(new.routes)} routes"]
    lines: list[str] = []
    for name in sorted(old.upstreams.keys() | new.upstreams.keys()):
        if name not in new.upstreams:
            lines.append(f"- upstream '{name}'")
        elif name not in old.upstreams:
            lines.append(f"+ upstream '{name}' ({new.upstreams[name].url})")
        else:
            lines += _changes(
                "upstream",
                name,
                old.upstreams[name].model_dump(mode="json"),
                new.upstreams[name].model_dump(mode="json"),
            )
    old_routes = {r.name: r for r in old.routes}
    new_routes = {r.name: r for r in new.routes}
    for route in old.routes:
        if route.name not in new_routes:
            lines.append(f"- route '{route.name}' ({route.mode})")
    for route in new.routes:
        before = old_routes.get(route.name)
        if before is None:
            lines.append(f"+ route '{route.name}' ({route.mode} -> {route.primary})")
        else:
            lines += _changes(
                "route", route.name, before.model_dump(mode="json"), route.model_dump(mode="json")
            )
    common_old = [r.name for r in old.routes if r.name in new_routes]
    common_new = [r.name for r in new.routes if r.name in old_routes]
    if common_old != common_new:
        lines.append(f"~ order: {', '.join(common_old)} -> {', '.join(common_new)}")
    if old.default_upstream != new.default_upstream:
        lines.append(f"~ default_upstream: {old.default_upstream!r} -> {new.default_upstream!r}")
    return lines
