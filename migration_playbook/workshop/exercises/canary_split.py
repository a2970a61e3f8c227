"""Exercise 2: the canary route that sends 20 % of accounts to the inference service, sticky.

The grader reads the live table (mode, upstreams, weight, sticky key), then sends its own
predictions through the proxy for many accounts, twice each, and tells from each answer's
the monolith's audit log which side served it: the share of accounts on the candidate must be
close to 20 % and no account may see both sides.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from contracts.proxy_admin import AdminError, AdminUnreachable
from datagen import TransactionGenerator
from migration_playbook.context import KitContext
from migration_playbook.phases.loader import table_text
from migration_playbook.phases.models import RoutePatch
from migration_playbook.workshop import files, live
from migration_playbook.workshop.model import Audience, Exercise, Verdict

NUMBER = 2
WEIGHT = 20.0
STICKY_KEY = "header:X-Account-Id"
ACCOUNTS = 300
#: Accepted share of accounts on the candidate: 20 % within three standard deviations of a
#: 300-account sample (sd = 2.3 points). The split is a hash of the key salted with the
#: route's name, so a given route name puts a given set of accounts a little off 20 %.
SHARE_RANGE = (0.13, 0.27)
#: Predictions in flight at once (the grader's own traffic, kept small for a laptop).
CONCURRENCY = 6
PREDICT = ("POST", "/api/v1/predictions")


def start(ctx: KitContext) -> str:
    up = live.phase_up(ctx, 1)
    table = live.phase_table(ctx, 1)
    path = files.folder(ctx, NUMBER) / "routes.yaml"
    path.write_text(table_text(table))
    applied = live.apply_table(ctx, table)
    return (
        f"{up}\nevery route passes through to the monolith (table version {applied.version}); "
        f"the inference service is declared as an upstream. Edit {path} and apply it."
    )


def _payload(tx: Any) -> dict[str, Any]:
    body: dict[str, Any] = tx.model_copy(update={"is_fraud": None}).model_dump(
        mode="json", exclude_none=True
    )
    return body


def _side(http: httpx.Client, ctx: KitContext, tx: Any, account: str) -> str | None:
    """Which side answered one prediction through the proxy: the monolith keeps an audit
    record of every decision it makes, the inference service keeps its own; None when the
    prediction failed."""
    response = http.post(
        f"{ctx.url('proxy')}/api/v1/predictions",
        json=_payload(tx),
        headers={**ctx.auth_headers, "X-Account-Id": account},
    )
    if response.status_code != 200:
        return None
    prediction_id = response.json()["prediction_id"]
    audit = http.get(f"{ctx.url('monolith')}/api/v1/predictions/{prediction_id}")
    return "primary" if audit.status_code == 200 else "candidate"


def _live_route(ctx: KitContext, verdict: Verdict) -> dict[str, Any] | None:
    """The live route that serves POST /api/v1/predictions, judged field by field."""
    try:
        with ctx.admin() as admin:
            explained = admin.explain(*PREDICT, ["X-Account-Id: probe"])
            table = admin.current().table
            state = admin.route_state(explained.route) if explained.route else None
    except (AdminError, AdminUnreachable) as exc:
        verdict.missing(f"the proxy's admin API does not answer ({exc}): `kit up --phase 1`")
        return None
    if not verdict.expect(
        explained.route is not None and explained.mode == "canary",
        f"POST /api/v1/predictions is served by route {explained.route} in canary mode",
        f"POST /api/v1/predictions is served by {explained.route or 'no route'} in "
        f"{explained.mode} mode, not by a canary route",
    ):
        return None
    route: dict[str, Any] = next(r for r in table["routes"] if r["name"] == explained.route)
    primary, candidate = (
        live.upstream_url(table, route["primary"]),
        live.upstream_url(table, str(route.get("candidate"))),
    )
    verdict.expect(
        primary == ctx.url("monolith"),
        f"its primary is the monolith ({primary})",
        f"its primary {route['primary']} is at {primary}, not the monolith at "
        f"{ctx.url('monolith')}",
    )
    verdict.expect(
        candidate == ctx.url("inference"),
        f"its candidate is the inference service ({candidate})",
        f"its candidate {route.get('candidate')} is at {candidate}, not the inference "
        f"service at {ctx.url('inference')}",
    )
    weight = route.get("weight")
    verdict.expect(
        weight == WEIGHT,
        f"its weight is {WEIGHT:g} %",
        f"its weight is {weight} %, the goal is {WEIGHT:g} %",
    )
    if state is not None and state.effective_weight is not None:
        verdict.expect(
            state.effective_weight == WEIGHT,
            "the proxy has not cut the weight (no automatic rollback)",
            f"the proxy serves the candidate at {state.effective_weight:g} %: its rollback "
            f"guard fired ({state.rollback.reason if state.rollback else 'see kit routes status'})",
        )
    sticky = route.get("sticky_key")
    verdict.expect(
        str(sticky).lower() == STICKY_KEY.lower(),  # header names are case-insensitive
        f"it is sticky by the account ({sticky})",
        f"its sticky_key is {sticky}: without {STICKY_KEY} one account's requests are split "
        "at random between the two models",
    )
    return route


def _split(ctx: KitContext, verdict: Verdict) -> None:
    """Send two predictions per account and judge the share and the stickiness."""
    generator = TransactionGenerator(seed=2020, id_prefix="workshop-2")
    requests = [
        (tx, f"acct-{index % ACCOUNTS:04d}")
        for index, tx in enumerate(generator.generate(ACCOUNTS * 2))
    ]
    sides: dict[str, set[str]] = defaultdict(set)
    with httpx.Client(timeout=30.0) as http, ThreadPoolExecutor(CONCURRENCY) as pool:
        answers = list(pool.map(lambda r: (r[1], _side(http, ctx, *r)), requests))
    failed = 0
    for account, side in answers:
        if side is None:
            failed += 1
        else:
            sides[account].add(side)
    verdict.expect(
        failed == 0,
        f"all {ACCOUNTS * 2} predictions through the proxy answered 200",
        f"{failed} of {ACCOUNTS * 2} predictions through the proxy failed",
    )
    mixed = [a for a, seen in sides.items() if len(seen) > 1]
    verdict.expect(
        not mixed,
        f"every one of {len(sides)} accounts saw one side only (sticky)",
        f"{len(mixed)} of {len(sides)} accounts saw both models (e.g. {mixed[:3]})",
    )
    on_candidate = sum(1 for seen in sides.values() if seen == {"candidate"})
    share = on_candidate / len(sides) if sides else 0.0
    low, high = SHARE_RANGE
    verdict.expect(
        low <= share <= high,
        f"{share:.0%} of accounts went to the inference service (goal {WEIGHT:g} %)",
        f"{share:.0%} of accounts went to the inference service, expected {low:.0%}-{high:.0%}",
    )


def check(ctx: KitContext) -> Verdict:
    verdict = Verdict()
    if _live_route(ctx, verdict) is not None:
        _split(ctx, verdict)
    return verdict


def solve(ctx: KitContext) -> str:
    patch = RoutePatch(route="predictions", mode="canary", candidate="inference", weight=WEIGHT)
    table = live.phase_table(ctx, 1, [patch])
    for route in table["routes"]:
        if route["name"] == "predictions":
            route["sticky_key"] = STICKY_KEY
    applied = live.apply_table(ctx, table)
    return (
        f"applied version {applied.version}: predictions is a canary to inference at "
        f"{WEIGHT:g} %, sticky by {STICKY_KEY}, falling back to the monolith"
    )


EXERCISE = Exercise(
    number=NUMBER,
    slug="canary-split",
    title="Send 20 % of accounts to the new service, sticky, and prove it",
    audience=Audience.WORKSHOP,
    minutes=30,
    goal=(
        "Write the canary route for POST /api/v1/predictions: the inference service answers "
        "for 20 % of the accounts, the monolith for the rest, and one account always sees "
        "the same model. The grader sends predictions for 300 accounts, twice each, and "
        "measures it."
    ),
    hints=(
        "A canary route needs `mode: canary`, a `candidate` upstream and a `weight` (a "
        "percentage); check your file with `kit routes lint FILE` before applying it.",
        "Which side answers is decided per request unless the route has a `sticky_key`; the "
        "clients send their account in the X-Account-Id header.",
        "`sticky_key: header:X-Account-Id`, `fallback: monolith` (a failing candidate answer "
        "is retried on the monolith), then `kit routes apply FILE --proxy $PROXY` and "
        "`kit routes status --proxy $PROXY` to see the weights.",
    ),
    start=start,
    check=check,
    solve=solve,
    reset=start,
)
