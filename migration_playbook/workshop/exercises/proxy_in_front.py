"""Exercise 1: the proxy goes in front of the monolith and nothing changes for a client.

The starting table a colleague "prepared" sends the transactions route to an upstream copied
from an old configuration (the monolith's address with a ``/legacy`` path), so ingestion
answers 404 through the proxy. The grader proves zero change of behaviour the way phase 0
does: every route passes through to the monolith's own address, and the public API's pacts,
replayed through the proxy, all pass.
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from contracts.pacts import FRESH_PROVIDER_STATES
from contracts.proxy_admin import AdminError, AdminUnreachable
from migration_playbook.context import KitContext
from migration_playbook.phases.loader import table_text
from migration_playbook.workshop import files, live
from migration_playbook.workshop.model import Audience, Exercise, Verdict

NUMBER = 1
PLANTED_UPSTREAM = "monolith-legacy"


def _planted(ctx: KitContext) -> dict[str, Any]:
    table = copy.deepcopy(live.phase_table(ctx, 0))
    table["upstreams"][PLANTED_UPSTREAM] = {
        "url": ctx.url("monolith") + "/legacy",
        "timeout_s": 10.0,
    }
    for route in table["routes"]:
        if route["name"] == "transactions":
            route["primary"] = PLANTED_UPSTREAM
    return table


def start(ctx: KitContext) -> str:
    up = live.phase_up(ctx, 0)
    table = _planted(ctx)
    path = files.folder(ctx, NUMBER) / "routes.yaml"
    path.write_text(table_text(table))
    applied = live.apply_table(ctx, table)
    return (
        f"{up}\nthe proxy serves a prepared route table (version {applied.version}); "
        f"its file is {path}. Make the proxy change nothing for a client."
    )


@contextmanager
def _stdout_to(path: Path) -> Iterator[None]:
    """Pact's verifier prints its report on file descriptor 1: keep it in a log instead."""
    sys.stdout.flush()
    saved = os.dup(1)
    with path.open("wb") as target:
        os.dup2(target.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def _routes_pass_through(ctx: KitContext, table: dict[str, Any], verdict: Verdict) -> None:
    monolith = ctx.url("monolith")
    for route in table.get("routes", []):
        name, mode, primary = route["name"], route["mode"], route["primary"]
        url = live.upstream_url(table, primary)
        if not verdict.expect(
            mode == "passthrough",
            f"route {name} passes through",
            f"route {name} is in {mode} mode: in this phase every route passes through",
        ):
            continue
        verdict.expect(
            url == monolith,
            f"route {name} goes to the monolith at {monolith}",
            f"route {name} goes to upstream {primary} at {url}, not to the monolith at "
            f"{monolith}: a client's request reaches another address",
        )
    default = table.get("default_upstream")
    verdict.expect(
        live.upstream_url(table, str(default)) == monolith,
        "anything no route matches goes to the monolith",
        f"default_upstream {default} is not the monolith at {monolith}",
    )


def check(ctx: KitContext) -> Verdict:
    from migration_playbook.gates.contracts import verify_pacts

    verdict = Verdict()
    try:
        with ctx.admin() as admin:
            current = admin.current()
    except (AdminError, AdminUnreachable) as exc:
        verdict.missing(f"the proxy's admin API does not answer ({exc}): `kit up --phase 0`")
        return verdict
    verdict.ok(f"the proxy answers at {ctx.url('proxy')} (route table version {current.version})")
    _routes_pass_through(ctx, current.table, verdict)
    log = files.folder(ctx, NUMBER) / "pact-verification.log"
    with _stdout_to(log):
        result = verify_pacts(
            ctx.url("proxy"), exclude_states=FRESH_PROVIDER_STATES, headers=ctx.auth_headers
        )
    counts = result.counts
    failed = [o for o in result.interactions if o.outcome == "failed"]
    if result.passed:
        verdict.ok(f"all {counts['passed']} replayed pact interactions pass through the proxy")
    else:
        for outcome in failed[:6]:
            why = f" ({outcome.error[:200]})" if outcome.error else ""
            verdict.missing(f"pact fails through the proxy: {outcome.description}{why}")
        for error in result.errors:
            verdict.missing(f"the pact verification could not run: {error[:300]}")
        verdict.missing(
            f"{counts['failed']} of {counts['passed'] + counts['failed']} "
            f"interactions fail (Pact's report: {log})"
        )
    return verdict


def solve(ctx: KitContext) -> str:
    applied = live.apply_table(ctx, live.phase_table(ctx, 0))
    return (
        f"applied phase 0's own table (version {applied.version}): both routes pass through "
        "to the monolith's address; the planted upstream is gone"
    )


EXERCISE = Exercise(
    number=NUMBER,
    slug="proxy-in-front",
    title="Put the proxy in front, change nothing",
    audience=Audience.TEAM,
    minutes=25,
    goal=(
        "The strangler proxy now stands between the clients and the monolith with a route "
        "table a colleague prepared. Make sure a client sees no difference at all: every "
        "route passes through to the monolith, and the public API's pacts pass when they "
        "are replayed through the proxy."
    ),
    hints=(
        "Compare the proxy with the monolith: `kit routes status --proxy $PROXY` and "
        "`kit routes explain POST /api/v1/transactions --table <the file start printed>`.",
        "Look at the upstreams of the table: is every one of them the monolith's own address?",
        "The transactions route goes to an upstream whose URL has a path; requests arrive "
        "at /legacy/api/v1/transactions. Point the route at `monolith`, remove the extra "
        "upstream, then `kit routes apply FILE --proxy $PROXY`.",
    ),
    start=start,
    check=check,
    solve=solve,
    reset=start,
)
