"""The migration engine for real: phase 0 applied and verified, phase 1 applied, with the
ledger, the reports and the live route table checked after each."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from contracts.client import ApiClient
from datagen import TransactionGenerator
from eventbus import Management, build_topology
from migration_playbook.context import KitContext
from migration_playbook.gates.result import Outcome
from migration_playbook.orchestration.engine import Engine
from migration_playbook.orchestration.ledger import Ledger, LedgerEntry
from migration_playbook.phases.loader import find_phase


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
