"""The engine without processes: its collaborators are fakes, so the rollback path and the
"last good table" logic are exercised step by step."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from contracts.problems import Problem
from contracts.proxy_admin import AdminError, AdminUnreachable
from contracts.proxy_admin.models import LiveTableOut, RouteStateOut
from migration_playbook.context import KitContext
from migration_playbook.gates.result import GateResult, Outcome
from migration_playbook.orchestration.engine import Engine
from migration_playbook.orchestration.ledger import Ledger, LedgerAction
from migration_playbook.phases.loader import find_phase
from migration_playbook.phases.models import GateSpec, Phase
from migration_playbook.runner.base import ProcessState
from migration_playbook.runner.catalog import ProcessSpec
from migration_playbook.settings import KitSettings
from migration_playbook.traffic import TrafficReport


@dataclass
class FakeRunner:
    alive: set[str] = field(default_factory=set)
    stopped: list[str] = field(default_factory=list)

    def ensure(self, specs: Sequence[ProcessSpec], ready_timeout: float) -> list[str]:
        started = [s.name for s in specs if s.name not in self.alive]
        self.alive |= set(started)
        return started

    def states(self) -> list[ProcessState]:
        return [ProcessState(name, "RUNNING", 1, "") for name in sorted(self.alive)]

    def stop(self, names: Iterable[str]) -> None:
        for name in names:
            self.alive.discard(name)
            self.stopped.append(name)

    def shutdown(self) -> bool:
        was = bool(self.alive)
        self.alive.clear()
        return was

    def running(self) -> bool:
        return bool(self.alive)

    def log_path(self, name: str) -> Path:
        return Path(f"/nonexistent/{name}.log")


class FakeAdmin:
    """The proxy's admin API in memory: versions, the live table, refusals on demand."""

    def __init__(self) -> None:
        self.versions: list[str] = ["routes: []\n"]
        self.refuse: set[int] = set()  # apply calls (1-based) the proxy refuses
        self.unreachable_after: int | None = None
        self.calls = 0

    def __enter__(self) -> FakeAdmin:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def _live(self) -> LiveTableOut:
        text = self.versions[-1]
        return LiveTableOut(
            version=len(self.versions),
            applied_by="kit",
            applied_at=datetime.now(UTC),
            origin="admin",
            diff=[],
            table=yaml.safe_load(text) or {},
            yaml=text,
        )

    def current(self) -> LiveTableOut:
        return self._live()

    def apply(self, table_yaml: str) -> LiveTableOut:
        self.calls += 1
        if self.unreachable_after is not None and self.calls > self.unreachable_after:
            raise AdminUnreachable("cannot reach the proxy: connection refused")
        if self.calls in self.refuse:
            problem = Problem(title="Invalid route table", status=422, detail="bad weight")
            raise AdminError(422, problem)
        self.versions.append(table_yaml)
        return self._live()

    def route_state(self, name: str) -> RouteStateOut | None:
        return None


@dataclass
class FakeQueues:
    restored: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)

    def restore(self, consumer: str) -> None:
        self.restored.append(consumer)

    def retire(self, consumer: str) -> list[str]:
        self.retired.append(consumer)
        return [f"evt-{consumer}"]


def _traffic(_url: str, **_options: Any) -> TrafficReport:
    return TrafficReport(sent=10, ok=10)


@dataclass
class Gates:
    """Fails the gates named in ``failing`` (by kind), passes the rest; records the calls."""

    failing: set[str] = field(default_factory=set)
    ran: list[str] = field(default_factory=list)

    def __call__(self, ctx: KitContext, phase: Phase, spec: GateSpec) -> GateResult:
        self.ran.append(spec.kind)
        outcome = Outcome.FAIL if spec.kind in self.failing else Outcome.PASS
        return GateResult(gate=spec.kind, outcome=outcome, summary=f"{spec.kind} {outcome}")


@dataclass
class Setup:
    engine: Engine
    runner: FakeRunner
    admin: FakeAdmin
    gates: Gates
    queues: FakeQueues
    ledger: Ledger


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    runner, admin, gates, queues = FakeRunner(), FakeAdmin(), Gates(), FakeQueues()
    settings = KitSettings(workdir=tmp_path / "var", reports_dir=tmp_path / "reports")
    ctx = KitContext.create(settings, runner=runner)
    ledger = Ledger(ctx.ledger_path)
    actions = {
        name: (lambda _ctx, _o, n=name: f"{n} done")
        for name in ("seed-monolith", "export-monolith-model", "backfill-audit")
    }
    engine = Engine(
        ctx,
        actions=actions,
        gates=gates,
        admin=lambda: admin,
        traffic=_traffic,
        queues=queues,
        ledger=ledger,
        snapshot=lambda _ctx: {},
    )
    return Setup(engine, runner, admin, gates, queues, ledger)


def test_a_phase_that_passes_records_every_step_then_stops_what_it_no_longer_runs(
    setup: Setup,
) -> None:
    setup.runner.alive = {"legacy-sync"}  # left over from elsewhere: not part of phase 1
    report = setup.engine.apply(find_phase(1))
    assert report.outcome is Outcome.PASS, report.reason
    assert [s.name for s in report.steps] == ["shadow", "canary-10", "canary-50", "cut-over"]
    assert [s.table_version for s in report.steps] == [2, 3, 4, 5]
    assert setup.runner.stopped == ["legacy-sync"]
    assert setup.queues.retired == ["legacy_sync"]
    actions = [e.action for e in setup.ledger.read()]
    assert actions == [LedgerAction.PRE_STEP] * 3 + [LedgerAction.STEP] * 4 + [
        LedgerAction.STOP,
        LedgerAction.APPLY,
    ]
    assert setup.gates.ran[-3:] == ["contracts", "model", "load"]


def test_a_failing_step_restores_the_table_live_before_it_and_stops(setup: Setup) -> None:
    setup.gates.failing = {"canary"}
    report = setup.engine.apply(find_phase(1))
    assert report.outcome is Outcome.FAIL
    assert [s.name for s in report.steps] == ["shadow", "canary-10"]
    failed = report.steps[-1]
    # v2 was the shadow table (the last good one), v3 the canary; the rollback is v4 = v2
    assert failed.table_version == 3 and failed.rolled_back_to == 4
    assert setup.admin.versions[3] == setup.admin.versions[1]
    assert "canary fail" in report.reason
    assert "contracts" not in setup.gates.ran  # no phase gate after a failed step
    assert setup.runner.stopped == []
    rollback = [e for e in setup.ledger.read() if e.action is LedgerAction.ROLLBACK]
    assert len(rollback) == 1 and rollback[0].details["rolled_back_to"] == 4
    assert rollback[0].outcome is Outcome.FAIL


def test_the_last_good_table_moves_with_each_passing_step(setup: Setup) -> None:
    setup.gates.failing = {"reconciliation"}  # the cut-over step's gate
    report = setup.engine.apply(find_phase(1))
    assert [s.outcome for s in report.steps][-1] is Outcome.FAIL
    # the cut-over was v5; canary-50 (v4) was the last good table, restored as v6
    assert report.steps[-1].rolled_back_to == 6
    assert setup.admin.versions[5] == setup.admin.versions[3]


def test_a_table_the_proxy_refuses_fails_the_step_and_restores_the_last_good(
    setup: Setup,
) -> None:
    setup.admin.refuse = {2}  # the second apply: canary-10's table
    report = setup.engine.apply(find_phase(1))
    failed = report.steps[-1]
    assert failed.name == "canary-10" and failed.outcome is Outcome.FAIL
    assert "the proxy rejected the table: bad weight" in failed.reason
    assert failed.rolled_back_to == 3  # shadow's table again
    assert setup.admin.versions[-1] == setup.admin.versions[1]


def test_a_rollback_that_cannot_reach_the_proxy_says_so(setup: Setup) -> None:
    setup.gates.failing = {"shadow"}
    setup.admin.unreachable_after = 1  # the shadow table applies, then the proxy is gone
    report = setup.engine.apply(find_phase(1))
    assert report.outcome is Outcome.FAIL
    step = report.steps[-1]
    assert step.rolled_back_to is None
    assert "the rollback to table v1 failed: cannot reach the proxy" in step.reason
    assert [e.action for e in setup.ledger.read()][-2:] == [
        LedgerAction.ROLLBACK,
        LedgerAction.APPLY,
    ]


def test_a_rehearsal_points_only_the_canary_at_the_faulty_build(setup: Setup) -> None:
    setup.gates.failing = {"canary"}
    report = setup.engine.apply(find_phase(1), candidate_override="chaos")
    assert report.outcome is Outcome.FAIL
    shadow_table = yaml.safe_load(setup.admin.versions[1])
    canary_table = yaml.safe_load(setup.admin.versions[2])
    assert shadow_table["routes"][0]["candidate"] == "inference"
    assert canary_table["routes"][0]["candidate"] == "chaos"
    assert "chaos" in setup.runner.alive


def test_consumers_started_again_get_their_queues_back(setup: Setup) -> None:
    setup.engine.up(find_phase(2))
    assert setup.queues.restored == ["legacy_sync"]
    setup.engine.up(find_phase(2))  # already running: nothing restored again
    assert setup.queues.restored == ["legacy_sync"]


def test_on_platform_external_the_engine_starts_stops_and_retires_nothing(
    tmp_path: Path,
) -> None:
    from migration_playbook.topology import load_topology
    from migration_playbook.topology.edit import as_external

    runner, admin, gates, queues = FakeRunner(), FakeAdmin(), Gates(), FakeQueues()
    runner.alive = {"legacy-sync"}  # answers, but phase 1 does not need it
    settings = KitSettings(workdir=tmp_path / "var", reports_dir=tmp_path / "reports")
    ctx = KitContext.create(settings, topology=as_external(load_topology()), runner=runner)
    ledger = Ledger(ctx.ledger_path)
    events: list[str] = []
    engine = Engine(
        ctx,
        actions={
            n: (lambda _ctx, _o, n=n: f"{n} done")
            for n in ("seed-monolith", "export-monolith-model", "backfill-audit")
        },
        gates=gates,
        admin=lambda: admin,
        traffic=_traffic,
        queues=queues,
        ledger=ledger,
        snapshot=lambda _ctx: {},
    )
    report = engine.apply(find_phase(1), lambda _kind, text: events.append(text))
    assert report.outcome is Outcome.PASS, report.reason
    assert [s.table_version for s in report.steps] == [2, 3, 4, 5]  # traffic moved
    assert runner.stopped == [] and queues.retired == [] and queues.restored == []
    assert not (settings.workdir / "routes.yaml").exists()
    assert any("legacy-sync still answer" in e and "stops nothing" in e for e in events)
    assert not any(e.startswith("starting ") for e in events)
    assert LedgerAction.STOP not in [e.action for e in ledger.read()]


def test_open_model_starts_every_request_on_schedule_and_waits_for_them() -> None:
    import asyncio

    from migration_playbook.traffic import open_model

    done: list[int] = []

    async def send(index: int) -> None:
        await asyncio.sleep(0.05)  # slower than the interval: requests overlap
        done.append(index)

    started = asyncio.run(open_model(100, 0.2, send))
    assert started == 20
    assert sorted(done) == list(range(20))
