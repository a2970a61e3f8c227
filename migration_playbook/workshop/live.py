"""What the exercises do to, and read from, the participant's running kit: bring a phase's
processes up, render and apply route tables, read the proxy's metrics.

Everything goes through the same doors a participant uses: the engine (``kit up``), the
proxy's admin API (``kit routes``) and the proxy's ``/metrics``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from contracts.proxy_admin.models import LiveTableOut
from migration_playbook.context import KitContext
from migration_playbook.orchestration.engine import Engine
from migration_playbook.phases.loader import find_phase, render_table, table_text
from migration_playbook.phases.models import RoutePatch


def phase_up(ctx: KitContext, phase: int) -> str:
    """The processes of phase ``phase`` running and its pre-steps done (idempotent)."""
    plan = find_phase(phase)
    Engine(ctx).up(plan)
    return f"phase {plan.phase} processes are up: {', '.join(plan.processes)}"


def phase_table(ctx: KitContext, phase: int, patches: Iterable[RoutePatch] = ()) -> dict[str, Any]:
    """The route table phase ``phase`` starts from (its steps' ``patches`` applied)."""
    return render_table(find_phase(phase), ctx.urls(), patches)


def apply_table(ctx: KitContext, table: Mapping[str, Any]) -> LiveTableOut:
    """Apply ``table`` on the live proxy, as an operator does."""
    with ctx.admin() as admin:
        return admin.apply(table_text(table))


def metric_sum(ctx: KitContext, sample: str, **labels: str) -> float:
    """The sum of the proxy's ``sample`` series whose labels include ``labels``."""
    response = httpx.get(f"{ctx.url('proxy')}/metrics", timeout=10.0)
    response.raise_for_status()
    total = 0.0
    for family in text_string_to_metric_families(response.text):
        for item in family.samples:
            if item.name == sample and all(item.labels.get(k) == v for k, v in labels.items()):
                total += item.value
    return total


def upstream_url(table: Mapping[str, Any], name: str) -> str | None:
    """The URL of upstream ``name`` in a live table (as ``LiveTableOut.table`` holds it)."""
    upstream = table.get("upstreams", {}).get(name)
    if not isinstance(upstream, Mapping):
        return None
    url = upstream.get("url")
    return str(url) if url is not None else None
