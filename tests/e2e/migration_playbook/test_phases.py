"""The migration engine for real, phases 0 to 5 in order on the shared stack
(``tests/kit_stack.py``: every deployable on a loopback address of its own, every store on
PostgreSQL), with the ledger, the reports and the live route table checked after each; the
faulty-canary rehearsal right after phase 1; `kit down` last, leaving no process behind."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from contracts.client import ApiClient
from datagen import TransactionGenerator
from eventbus import Management, build_topology
from migration_playbook.context import KitContext
from migration_playbook.gates.result import Outcome
from migration_playbook.orchestration.engine import Engine
from migration_playbook.orchestration.ledger import Ledger, LedgerEntry
from migration_playbook.phases.loader import find_phase
from migration_playbook.runner.supervisor import Supervisor
from tests.kit_stack import HOSTS, group_members
from tests.postgres_support import libpq_url


def _entries(ctx: KitContext, phase: int) -> list[LedgerEntry]:
    return [e for e in Ledger(ctx.ledger_path).read() if e.phase == phase]


def test_phase_0_applies_and_verifies(kit_stack: KitContext) -> None:
    report = Engine(kit_stack).apply(find_phase(0))
    assert report.outcome is Outcome.PASS, report.reason
    assert [s.name for s in report.steps] == ["passthrough"]
    gates = {g.gate.split(":")[0]: g for g in report.gates}
    assert gates["contracts"].details["proxy"]["failed"] == 0
    assert gates["load"].details["failed_requests"] == 0

    verified = Engine(kit_stack).verify(find_phase(0))
    assert verified.outcome is Outcome.PASS, verified.reason
    saved = json.loads((kit_stack.reports / "phase-0.json").read_text())
    assert saved["command"] == "verify" and saved["outcome"] == "pass"
    actions = [e.action for e in _entries(kit_stack, 0)]
    assert actions == ["pre-step", "step", "apply", "verify"]
    for evidence in gates["load"].evidence + gates["contracts"].evidence:
        assert kit_stack.reports in Path(evidence).parents


def test_phase_1_moves_predictions_to_the_inference_service(kit_stack: KitContext) -> None:
    with ApiClient(kit_stack.url("monolith")) as monolith:
        old = monolith.score(TransactionGenerator(seed=77, id_prefix="before").generate(1)[0])

    report = Engine(kit_stack).apply(find_phase(1))
    assert report.outcome is Outcome.PASS, report.reason
    assert [s.name for s in report.steps] == ["shadow", "canary-10", "canary-50", "cut-over"]
    assert all(s.outcome is Outcome.PASS and s.rolled_back_to is None for s in report.steps)
    assert all(s.traffic["failed"] == 0 and s.traffic["sent"] > 0 for s in report.steps)
    model = next(g for g in report.gates if g.gate == "model")
    assert {m.name for m in model.measurements} >= {"holdout_roc_auc", "parity_max_score_diff"}
    # every decision read back through the proxy, whichever side scored it
    read_backs = {s.name: g for s in report.steps for g in s.gates if g.gate == "read-back"}
    assert set(read_backs) == {"canary-50", "cut-over"}
    assert all(
        g.outcome is Outcome.PASS and g.details["unreadable"] == [] for g in read_backs.values()
    )
    holders = read_backs["canary-50"].details["holders"]
    assert holders.get("monolith", 0) >= 1 and holders.get("inference", 0) >= 1

    with kit_stack.admin() as admin:
        live = admin.current().table
    routes = {r["name"]: r for r in live["routes"]}
    assert routes["predictions"]["mode"] == "passthrough"
    assert routes["predictions"]["primary"] == "inference"
    assert routes["prediction-audit"]["primary"] == "inference"

    # a decision the monolith made before the move is still readable, now from the service
    response = httpx.get(
        f"{kit_stack.url('proxy')}/api/v1/predictions/{old.prediction_id}",
        headers=kit_stack.auth_headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["score"] == old.score

    steps = [e for e in _entries(kit_stack, 1) if e.action == "step"]
    assert [e.step for e in steps] == ["shadow", "canary-10", "canary-50", "cut-over"]
    assert all(isinstance(e.table_version, int) for e in steps)
    assert _entries(kit_stack, 1)[-1].action == "apply"
    assert _entries(kit_stack, 1)[-1].outcome == "pass"


@pytest.mark.fault
def test_a_failing_canary_step_is_rolled_back_to_the_last_good_table(
    kit_stack: KitContext,
) -> None:
    phase = find_phase(1)
    Engine(kit_stack).up(phase)  # already up after phase 1
    with kit_stack.admin() as admin:
        before = admin.current().version
    report = Engine(kit_stack).apply(phase, candidate_override="chaos")

    assert report.outcome is Outcome.FAIL
    failed = report.steps[-1]
    assert failed.outcome is Outcome.FAIL and failed.rolled_back_to is not None
    assert failed.traffic["failed"] == 0  # the proxy's fallback kept every client whole
    canary = next(g for g in failed.gates if g.gate.startswith("canary"))
    assert canary.outcome is Outcome.FAIL
    assert canary.details["route"]["rollback"]["verdict"] == "rolled_back"
    assert "max_error_rate" in canary.summary
    assert "canary" in report.reason

    with kit_stack.admin() as admin:
        live = admin.current()
    assert live.version == failed.rolled_back_to and live.version > before
    restored = {r["name"]: r for r in live.table["routes"]}["predictions"]
    last_good = report.steps[-2] if len(report.steps) > 1 else None
    if last_good is None:  # the first traffic step failed: back to the table before it
        assert restored["mode"] == "passthrough" and restored["primary"] != "chaos"
    else:
        assert restored["mode"] == "shadow" and restored["candidate"] == "inference"

    entries = _entries(kit_stack, 1)
    rollback = [e for e in entries if e.action == "rollback"]
    assert rollback and rollback[-1].details["rolled_back_to"] == failed.rolled_back_to
    assert entries[-1].action == "apply" and entries[-1].outcome == "fail"


def test_phases_2_and_3_move_ingestion_and_model_management(kit_stack: KitContext) -> None:
    report = Engine(kit_stack).apply(find_phase(2))
    assert report.outcome is Outcome.PASS, report.reason
    reconciled = [g for g in report.gates if g.gate == "reconciliation:ingestion"]
    assert reconciled and reconciled[0].details["missing_in_monolith_count"] == 0

    report = Engine(kit_stack).apply(find_phase(3))
    assert report.outcome is Outcome.PASS, report.reason
    promotion = next(g for g in report.steps[-1].gates if g.gate == "promotion")
    new_version = promotion.details["run"]["model_version"]
    assert promotion.details["served"] == new_version
    with ApiClient(kit_stack.url("proxy"), headers=kit_stack.auth_headers) as api:
        assert api.current_model().version == new_version  # answered by the training service
    with kit_stack.admin() as admin:
        routes = {r["name"]: r for r in admin.current().table["routes"]}
    assert routes["transactions"]["primary"] == "ingestion"
    assert routes["models"]["primary"] == "training"


@pytest.mark.postgres
def test_the_stack_ran_on_its_own_addresses_with_its_stores_on_postgres(
    kit_stack: KitContext, kit_stores: dict[str, str]
) -> None:
    """After phases 0-3: the kit reached every process and store only through the
    topology, so nothing landed on 127.0.0.1 or in a SQLite file."""
    ctx, stores = kit_stack, kit_stores

    # every HTTP process answers on its own address, and only there
    for name in ("monolith", "proxy", "inference", "ingestion", "legacy-sync"):
        spec = ctx.catalog[name]
        assert spec.host == HOSTS[name] and spec.port is not None
        assert _answers_on(HOSTS[name], spec.port), f"{name} does not answer on {spec.url}"
        assert not _answers_on("127.0.0.1", spec.port), f"{name} also listens on 127.0.0.1"
    assert httpx.get(f"{ctx.url('proxy')}/readyz", timeout=5).status_code == 200

    # the data went to PostgreSQL: the monolith's decisions, their backfilled copies, and
    # the transactions the ingestion service accepted, reconciled with the monolith's
    assert _count(stores["monolith"], "SELECT count(*) FROM predictions") > 0
    copied = "SELECT count(*) FROM prediction_audit WHERE origin = 'monolith'"
    assert _count(stores["inference"], copied) > 0
    assert _count(stores["inference"], "SELECT count(*) FROM prediction_audit") > _count(
        stores["inference"], copied
    )
    ingested = _count(stores["ingestion"], "SELECT count(*) FROM transactions")
    assert ingested > 0
    data = Path(ctx.settings.workdir) / "data"
    assert not data.exists() or not list(data.glob("*.db")), "a store fell back to SQLite"

    # and the public API through the proxy sees it: a transaction posted now is stored by
    # the ingestion service on PostgreSQL and reaches the monolith's database too
    transaction = TransactionGenerator(seed=991, id_prefix="elsewhere").generate(1)[0]
    with ApiClient(ctx.url("proxy"), headers=ctx.auth_headers, timeout=10) as api:
        api.ingest(transaction)
    found = (
        f"SELECT count(*) FROM transactions WHERE transaction_id = '{transaction.transaction_id}'"
    )
    assert _count(stores["ingestion"], found) == 1
    deadline = time.monotonic() + 30
    while _count(stores["monolith"], found) == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _count(stores["monolith"], found) == 1, "the legacy sync did not bring it over"


def test_closed_loop_then_decommission(kit_stack: KitContext) -> None:
    """Phase 4: drifted live traffic -> drift_detected -> retraining -> promotion ->
    hot-swap -> the drift report settles, with no failed request; phase 5: the monolith
    leaves the table, is stopped, and every pact still verifies through the proxy."""
    report = Engine(kit_stack).apply(find_phase(4))
    assert report.outcome is Outcome.PASS, report.reason
    loop = next(g for g in report.steps[-1].gates if g.gate == "closed-loop")
    timeline = loop.details["timeline"]
    assert timeline["drift"] < timeline["swap"] < timeline["settled"]
    assert loop.details["traffic"]["failed"] == 0
    with ApiClient(kit_stack.url("training")) as training:
        models = training.list_models()
    assert models.current_version == str(
        httpx.get(f"{kit_stack.url('inference')}/readyz").json()["model_version"]
    )

    report = Engine(kit_stack).apply(find_phase(5))
    assert report.outcome is Outcome.PASS, report.reason
    running = {s.name for s in kit_stack.runner.states() if s.state == "RUNNING"}
    assert "monolith" not in running and "legacy-sync" not in running
    with kit_stack.admin() as admin:
        table = admin.current().table
    assert "monolith" not in table["upstreams"]
    contracts = next(g for g in report.gates if g.gate == "contracts")
    assert contracts.details["proxy"]["failed"] == 0
    # The legacy sync is decommissioned: its queue is retired, not filling with the
    # transactions_ingested of the phase's load test.
    legacy = build_topology().consumer_queue("legacy_sync", "transactions_ingested").name
    management = Management.from_amqp_uri(kit_stack.amqp_uri)
    assert f"retired-{legacy}" in {p["name"] for p in management.policies()}
    assert management.queue(legacy)["messages"] == 0


@pytest.mark.fault
def test_kit_down_leaves_no_process_behind(kit_stack: KitContext) -> None:
    """Last in this module: it stops the shared stack (the closed loop would otherwise
    go on retraining beside the next module's stack)."""
    runner = kit_stack.runner
    assert isinstance(runner, Supervisor)  # the local platform's runner
    if not runner.states():  # run alone: bring a phase up first
        Engine(kit_stack).up(find_phase(0))
    states = runner.states()
    assert states, "the stack should be running"
    pids = [s.pid for s in states if s.pid]
    members = [pid for pgid in pids for pid in group_members(pgid)]
    assert len(members) >= len(pids)
    daemon = int(runner.pidfile.read_text())

    assert Engine(kit_stack).down()
    deadline = time.monotonic() + 30  # supervisord's stop grace is 15 s per process group
    alive = [pid for pid in [*members, daemon] if _alive(pid)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.5)
        alive = [pid for pid in alive if _alive(pid)]
    assert not alive, "outlived `kit down`: " + "; ".join(_describe(pid) for pid in alive)
    assert runner.states() == []


def _alive(pid: int) -> bool:
    """Running, and not a zombie waiting for its parent to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _describe(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return f"{pid} (gone)"
    return f"{pid} {command[:160]}"


def _count(url: str, query: str) -> int:
    with psycopg.connect(libpq_url(url), connect_timeout=5) as connection:
        row = connection.execute(query).fetchone()
    return int(row[0]) if row else 0


def _answers_on(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0
