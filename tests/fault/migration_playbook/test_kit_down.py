"""`kit down` stops every process of a running stack and supervisord: nothing is left.

The rollback of a faulty canary is rehearsed in tests/e2e/migration_playbook/test_phases.py (marked
``fault``), right after phase 1, where its starting state is known."""

from __future__ import annotations

import time
from pathlib import Path

from migration_playbook.context import KitContext
from migration_playbook.orchestration.engine import Engine
from migration_playbook.phases.loader import find_phase
from migration_playbook.runner.supervisor import Supervisor
from tests.kit_stack import group_members


def test_kit_down_leaves_no_process_behind(kit_stack: KitContext) -> None:
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
