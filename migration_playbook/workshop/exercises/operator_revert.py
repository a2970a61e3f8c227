"""Exercise 3 (operator lab): a bad table is refused while the live one serves, a valid but
wrong table goes live and hurts clients, and the operator reverts it.

``start`` records a baseline (the live table and its version, the proxy's count of refused
tables and of answered requests) and hands out two files. The grader reads the proxy's
history and metrics: a table was refused by the live proxy, the wrong table was applied and
then reverted, the live table is the starting one again, and clients kept sending meanwhile.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from contracts.proxy_admin import AdminError, AdminUnreachable
from migration_playbook.context import KitContext
from migration_playbook.phases.loader import table_text
from migration_playbook.traffic import drive_sync
from migration_playbook.workshop import files, live
from migration_playbook.workshop.model import Audience, Exercise, Verdict
from strangler_proxy.route_table import diff_tables
from strangler_proxy.route_table.loader import parse_table

NUMBER = 3
#: Requests the proxy must answer during the lab for it to count as "under load".
MIN_REQUESTS = 100


def _bad(table: dict[str, Any]) -> dict[str, Any]:
    bad = copy.deepcopy(table)
    for route in bad["routes"]:
        if route["name"] == "predictions":
            route.update(mode="canary", candidate="inferense", weight=120)
    return bad


def _wrong(table: dict[str, Any]) -> dict[str, Any]:
    wrong = copy.deepcopy(table)
    for route in wrong["routes"]:
        if route["name"] == "transactions":
            route["primary"] = "inference"
    return wrong


def start(ctx: KitContext) -> str:
    up = live.phase_up(ctx, 1)
    table = live.phase_table(ctx, 1)
    applied = live.apply_table(ctx, table)
    folder = files.folder(ctx, NUMBER)
    (folder / "bad.yaml").write_text(table_text(_bad(table)))
    (folder / "wrong.yaml").write_text(table_text(_wrong(table)))
    files.save_baseline(
        ctx,
        NUMBER,
        {
            "version": applied.version,
            "table": applied.table,
            "rejections": live.metric_sum(ctx, "proxy_route_table_rejections_total"),
            "requests": live.metric_sum(ctx, "proxy_requests_total"),
        },
    )
    return (
        f"{up}\nthe live table is version {applied.version}; {folder}/bad.yaml and "
        f"{folder}/wrong.yaml are yours to try on the live proxy, under load."
    )


def check(ctx: KitContext) -> Verdict:
    verdict = Verdict()
    baseline = files.load_baseline(ctx, NUMBER)
    if baseline is None:
        verdict.missing("the lab was not started here: `kit workshop start 3`")
        return verdict
    try:
        with ctx.admin() as admin:
            current = admin.current()
            history = [v for v in admin.history() if v.version > baseline["version"]]
    except (AdminError, AdminUnreachable) as exc:
        verdict.missing(f"the proxy's admin API does not answer ({exc}): `kit up --phase 1`")
        return verdict
    refused = live.metric_sum(ctx, "proxy_route_table_rejections_total") - baseline["rejections"]
    verdict.expect(
        refused >= 1,
        f"the live proxy refused {refused:g} bad table(s) and kept serving",
        "the live proxy has not refused a table yet: send bad.yaml to the proxy itself "
        "(`kit routes apply` checks the file before sending it; see the hints)",
    )
    start_table = parse_table(table_text(baseline["table"]), "start")
    wrong = parse_table((files.folder(ctx, NUMBER) / "wrong.yaml").read_text(), "wrong.yaml")
    wrong_diff = diff_tables(start_table, wrong)
    applied = [v for v in history if v.origin == "admin" and v.diff == wrong_diff]
    verdict.expect(
        bool(applied),
        f"wrong.yaml went live as version {applied[0].version}" if applied else "",
        "wrong.yaml was not applied on the proxy (it is valid: the proxy accepts it)",
    )
    reverts = [
        v for v in history if v.origin == "revert" and applied and v.version > applied[0].version
    ]
    verdict.expect(
        bool(reverts),
        f"it was reverted (version {reverts[0].version})" if reverts else "",
        "the wrong table was not reverted with `kit routes revert`",
    )
    verdict.expect(
        current.table == baseline["table"],
        f"the live table (version {current.version}) is the one the lab started from",
        f"the live table (version {current.version}) differs from the starting one: "
        + "; ".join(diff_tables(start_table, parse_table(current.yaml, "live"))),
    )
    served = live.metric_sum(ctx, "proxy_requests_total") - baseline["requests"]
    verdict.expect(
        served >= MIN_REQUESTS,
        f"the proxy answered {served:g} requests during the lab",
        f"the proxy answered only {served:g} requests during the lab (at least "
        f"{MIN_REQUESTS}): keep `kit workshop traffic` running while you work",
    )
    return verdict


def solve(ctx: KitContext) -> str:
    folder = files.folder(ctx, NUMBER)
    stop = threading.Event()
    load = threading.Thread(
        target=drive_sync,
        args=(ctx.url("proxy"),),
        kwargs={
            "rate_per_s": 25,
            "duration_s": 60,
            "token": ctx.token,
            "stop": stop,
            "id_prefix": "workshop-3",
        },
        daemon=True,
    )
    load.start()
    steps = []
    try:
        with ctx.admin() as admin:
            try:
                admin.apply((folder / "bad.yaml").read_text())
            except AdminError as exc:
                steps.append(f"bad.yaml refused ({exc.status})")
            wrong = admin.apply((folder / "wrong.yaml").read_text())
            steps.append(f"wrong.yaml applied as version {wrong.version}")
            stop.wait(4.0)
            reverted = admin.revert()
            steps.append(f"reverted to version {reverted.reverted_to} (now {reverted.version})")
        stop.wait(4.0)
    finally:
        stop.set()
        load.join()
    return "; ".join(steps)


EXERCISE = Exercise(
    number=NUMBER,
    slug="operator-revert",
    title="Operator lab: a refused table, a wrong table, a revert",
    audience=Audience.OPERATOR,
    minutes=25,
    goal=(
        "With traffic flowing through the proxy, send it a broken route table (it must be "
        "refused while the live table keeps serving), then a valid but wrong one (it goes "
        "live: watch what clients get), and put the previous table back with a revert."
    ),
    hints=(
        "Keep load running in a second terminal: `kit workshop traffic --seconds 300`. "
        '`eval "$(kit workshop env)"` sets $PROXY and $KIT_ADMIN_TOKEN.',
        "`kit routes lint bad.yaml` says what is wrong, and `kit routes apply` refuses to "
        'send it; the proxy itself refuses it too: `curl -s -X POST -H "Authorization: '
        'Bearer $KIT_ADMIN_TOKEN" --data-binary @bad.yaml $PROXY/_admin/routes`.',
        "`kit routes diff` the two files, `kit routes apply wrong.yaml --proxy $PROXY`, watch "
        "the traffic's failures, then `kit routes revert --proxy $PROXY` and "
        "`kit routes status --proxy $PROXY`.",
    ),
    start=start,
    check=check,
    solve=solve,
    reset=start,
)
