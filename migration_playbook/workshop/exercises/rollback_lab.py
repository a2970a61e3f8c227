"""Exercise 5 (break-it lab): a broken release mid-canary; the proxy rolls it back by itself
and no client sees an error.

``start`` runs phase 1 with the faulty candidate build (``migration_playbook/tools/chaos.py``,
which fails half of the public API requests) declared as the upstream ``chaos``, and a
healthy canary of the inference service at 20 % with a rollback guard. The participant
points the canary at ``chaos``, sends traffic, and reads why the guard fired. The grader
reads the route's live state and the proxy's metrics since ``start``: the guard rolled the
candidate back, its failures were answered by the monolith (fallbacks), and no client got
a 5xx.
"""

from __future__ import annotations

import time

from contracts.proxy_admin import AdminError, AdminUnreachable
from migration_playbook.context import KitContext
from migration_playbook.orchestration.candidate import with_candidate
from migration_playbook.orchestration.engine import Engine
from migration_playbook.phases.loader import find_phase, render_table, table_text
from migration_playbook.phases.models import Phase, RoutePatch
from migration_playbook.traffic import drive_sync
from migration_playbook.workshop import files, live
from migration_playbook.workshop.model import Audience, Exercise, Verdict

NUMBER = 5
ROUTE = "predictions"
FAULTY = "chaos"


def _phase() -> Phase:
    return with_candidate(find_phase(1), FAULTY)


def _table(ctx: KitContext, candidate: str) -> str:
    patch = RoutePatch(route=ROUTE, mode="canary", candidate=candidate, weight=20)
    return table_text(render_table(_phase(), ctx.urls(), [patch]))


def _client_errors(ctx: KitContext) -> float:
    return live.metric_sum(ctx, "proxy_requests_total", route=ROUTE, status_class="5xx")


def start(ctx: KitContext) -> str:
    Engine(ctx).up(_phase())
    path = files.folder(ctx, NUMBER) / "routes.yaml"
    path.write_text(_table(ctx, "inference"))
    with ctx.admin() as admin:
        applied = admin.apply(path.read_text())
    files.save_baseline(
        ctx,
        NUMBER,
        {
            "client_errors": _client_errors(ctx),
            "fallbacks": live.metric_sum(ctx, "proxy_fallbacks_total", route=ROUTE),
        },
    )
    return (
        f"phase 1 is up with the faulty build {FAULTY} at {ctx.url(FAULTY)}; {ROUTE} is a "
        f"healthy canary of the inference service at 20 % (table version {applied.version}, "
        f"file {path}). Release the faulty build to the canary and watch."
    )


def check(ctx: KitContext) -> Verdict:
    verdict = Verdict()
    baseline = files.load_baseline(ctx, NUMBER)
    if baseline is None:
        verdict.missing("the lab was not started here: `kit workshop start 5`")
        return verdict
    try:
        with ctx.admin() as admin:
            table = admin.current().table
            state = admin.route_state(ROUTE)
    except (AdminError, AdminUnreachable) as exc:
        verdict.missing(f"the proxy's admin API does not answer ({exc}): `kit workshop start 5`")
        return verdict
    route = next((r for r in table["routes"] if r["name"] == ROUTE), None)
    candidate = route.get("candidate") if route else None
    url = live.upstream_url(table, str(candidate))
    verdict.expect(
        route is not None and route["mode"] == "canary" and url == ctx.url(FAULTY),
        f"the canary's candidate is the faulty build ({url})",
        f"the canary's candidate is {candidate} at {url}, not the faulty build at "
        f"{ctx.url(FAULTY)}: release it to the canary first",
    )
    rollback = state.rollback if state is not None else None
    fired = rollback is not None and rollback.verdict == "rolled_back"
    verdict.expect(
        fired,
        f"the proxy rolled the canary back by itself: {rollback.reason if rollback else ''}",
        "the rollback guard has not fired (verdict "
        f"{rollback.verdict if rollback else 'none'}): send traffic with `kit workshop traffic`",
    )
    if state is not None and fired:
        verdict.expect(
            state.effective_weight == 0,
            "the candidate gets no traffic any more (effective weight 0)",
            f"the candidate still gets {state.effective_weight} % of the traffic",
        )
    fallbacks = live.metric_sum(ctx, "proxy_fallbacks_total", route=ROUTE) - baseline["fallbacks"]
    verdict.expect(
        fallbacks > 0,
        f"{fallbacks:g} failed candidate answers were answered by the monolith instead",
        "no candidate failure was answered by the monolith yet (the route's `fallback`)",
    )
    errors = _client_errors(ctx) - baseline["client_errors"]
    verdict.expect(
        errors == 0,
        "no client got a 5xx from the predictions route",
        f"{errors:g} clients got a 5xx from the predictions route: is `fallback: monolith` set?",
    )
    return verdict


def solve(ctx: KitContext) -> str:
    with ctx.admin() as admin:
        applied = admin.apply(_table(ctx, FAULTY))
        deadline = time.monotonic() + 60
        sent = 0
        while time.monotonic() < deadline:
            sent += drive_sync(
                ctx.url("proxy"),
                rate_per_s=40,
                duration_s=3,
                predictions_share=0.9,
                token=ctx.token,
                id_prefix="workshop-5",
            ).sent
            state = admin.route_state(ROUTE)
            if state is not None and state.rollback and state.rollback.verdict == "rolled_back":
                return (
                    f"released {FAULTY} to the canary (version {applied.version}), sent {sent} "
                    f"requests; the guard fired: {state.rollback.reason}"
                )
    return f"released {FAULTY} to the canary; the guard did not fire after {sent} requests"


EXERCISE = Exercise(
    number=NUMBER,
    slug="rollback-lab",
    title="Break-it lab: a broken release mid-canary",
    audience=Audience.WORKSHOP,
    minutes=20,
    goal=(
        "A new build of the inference service is broken: it fails half of its requests. "
        "Release it to the canary anyway, under traffic, and watch the proxy's rollback "
        "guard take it out by itself. Read why it fired, and check that no client saw an "
        "error meanwhile."
    ),
    hints=(
        "The faulty build is already declared in the table as the upstream `chaos`; "
        "`kit routes status --proxy $PROXY` shows each route's rollback verdict.",
        "Change the predictions route's `candidate` to `chaos` in the file start printed, "
        "apply it, and keep `kit workshop traffic --seconds 60` running.",
        "The guard needs `min_requests` candidate answers in its window before it judges "
        "(`insufficient_data` until then); `fallback: monolith` is what keeps the clients "
        "unharmed.",
    ),
    start=start,
    check=check,
    solve=solve,
    reset=start,
)
