"""A faulty candidate build fails a canary step: the proxy zeroes its weight, the kit
puts the last good table back by itself and records why; `kit down` leaves nothing."""

from __future__ import annotations

import time
from pathlib import Path

from migration_playbook import ledger
from migration_playbook.engine import KitContext, apply, down, up
from migration_playbook.gates.result import Outcome
from migration_playbook.phases.loader import find_phase
from tests.kit_stack import group_members


def test_a_failing_canary_step_is_rolled_back_to_the_last_good_table(
    kit_stack: KitContext,
) -> None:
    phase = find_phase(1)
    up(kit_stack, phase)  # already up after the e2e tests; started here when run alone
    with kit_stack.admin() as admin:
        before = admin.current()["version"]
    report = apply(kit_stack, phase, candidate_override="chaos")

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
    assert live["version"] == failed.rolled_back_to and live["version"] > before
    restored = {r["name"]: r for r in live["table"]["routes"]}["predictions"]
    last_good = report.steps[-2] if len(report.steps) > 1 else None
    if last_good is None:  # the first traffic step failed: back to the table before it
        assert restored["mode"] == "passthrough" and restored["primary"] != "chaos"
    else:
        assert restored["mode"] == "shadow" and restored["candidate"] == "inference"

    entries = [e for e in ledger.read(kit_stack.ledger_path) if e["phase"] == 1]
    rollback = [e for e in entries if e["action"] == "rollback"]
    assert rollback and rollback[-1]["details"]["rolled_back_to"] == failed.rolled_back_to
    assert entries[-1]["action"] == "apply" and entries[-1]["outcome"] == "fail"


def test_kit_down_leaves_no_process_behind(kit_stack: KitContext) -> None:
    states = kit_stack.supervisor.states()
    assert states, "the stack should be running"
    pids = [s.pid for s in states if s.pid]
    members = [pid for pgid in pids for pid in group_members(pgid)]
    assert len(members) >= len(pids)
    daemon = int(kit_stack.supervisor.pidfile.read_text())

    assert down(kit_stack)
    deadline = time.monotonic() + 30  # supervisord's stop grace is 15 s per process group
    alive = [pid for pid in [*members, daemon] if _alive(pid)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.5)
        alive = [pid for pid in alive if _alive(pid)]
    assert not alive, "outlived `kit down`: " + "; ".join(_describe(pid) for pid in alive)
    assert kit_stack.supervisor.states() == []


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
