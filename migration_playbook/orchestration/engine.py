"""The migration engine: bring a phase up, verify it, and apply it step by step.

``Engine.apply`` moves traffic through the proxy's admin API one step at a time, drives
load with the kit's traffic generator, then checks the step's gates (and that no client
request failed). On any failure it puts back the last good route table by itself, says
which gate failed and why, and stops. Every transition goes to the promotion ledger.

Its collaborators are passed in (the pre-step actions, the gate runner, the proxy's admin
client, the traffic driver, the broker's consumer queues, the ledger; the runner comes
with the context), so the rollback path and the "last good table" logic are tested
without processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, cast

from contracts.client import ApiClient, ApiError
from contracts.proxy_admin import AdminError, AdminUnreachable
from contracts.proxy_admin.models import LiveTableOut, RouteStateOut
from migration_playbook.context import KitContext
from migration_playbook.gates.registry import run_gate
from migration_playbook.gates.result import GateResult, Measurement, Outcome
from migration_playbook.orchestration.actions import Action, actions_for
from migration_playbook.orchestration.candidate import with_candidate
from migration_playbook.orchestration.ledger import Ledger, LedgerAction, LedgerEntry
from migration_playbook.orchestration.queues import BrokerQueues, ConsumerQueues
from migration_playbook.orchestration.reports import PhaseReport, PreStepResult, StepReport
from migration_playbook.phases.loader import render_table, table_text
from migration_playbook.phases.models import GateSpec, Phase, RoutePatch, Step
from migration_playbook.runner.catalog import with_replicas
from migration_playbook.topology import Platform, load_hook
from migration_playbook.traffic import TrafficReport, drive_sync

EventSink = Callable[[str, str], None]
GateRunner = Callable[[KitContext, Phase, GateSpec], GateResult]
TrafficDriver = Callable[..., TrafficReport]
Snapshot = Callable[[KitContext], dict[str, Any]]


class AdminClient(AbstractContextManager["AdminClient"], Protocol):
    """What the engine needs of the proxy's admin API (``ProxyAdminClient`` has it)."""

    def current(self) -> LiveTableOut: ...

    def apply(self, table_yaml: str) -> LiveTableOut: ...

    def route_state(self, name: str) -> RouteStateOut | None: ...


def _quiet(_kind: str, _message: str) -> None:
    return None


def public_snapshot(ctx: KitContext) -> dict[str, Any]:
    """Model versions and the drift report as the public API shows them now (best effort).

    That is the bundled API's: a migration with an API of its own (its own pacts in the
    topology's ``kit:``) gets no snapshot rather than a 404 recorded as one."""
    out: dict[str, Any] = {}
    if ctx.topology.kit.pacts:
        return out
    try:
        with ApiClient(ctx.url("proxy"), headers=ctx.auth_headers, timeout=30) as client:
            out["models"] = client.list_models().model_dump(mode="json")
            out["drift"] = client.drift_report(window=500).model_dump(mode="json")
    except (ApiError, ValueError) as exc:
        out["error"] = str(exc)
    return out


def traffic_for(ctx: KitContext) -> TrafficDriver:
    """The topology's traffic (``kit.traffic``), else the kit's generator of the bundled API."""
    hook = ctx.topology.kit.traffic
    return drive_sync if hook is None else cast(TrafficDriver, load_hook(hook))


def candidate_share(patch: RoutePatch) -> float:
    """Percent of a route's traffic the candidate answers in a step (cut-over is 100)."""
    if patch.mode == "canary":
        return patch.weight or 0.0
    if patch.mode == "passthrough" and patch.primary is not None:
        return 100.0
    return 0.0


def client_requests_result(traffic: Mapping[str, Any]) -> GateResult:
    """The implicit gate of every step with traffic: no client request failed."""
    failed = int(traffic.get("failed", 0))
    sent = int(traffic.get("sent", 0))
    return GateResult(
        gate="client-requests",
        outcome=Outcome.PASS if failed == 0 and sent > 0 else Outcome.FAIL,
        summary=f"{sent} requests through the proxy, {failed} failed for the client",
        measurements=[
            Measurement(name="failed_requests", value=failed, threshold="== 0", ok=failed == 0)
        ],
        details=dict(traffic),
    )


class Engine:
    """Runs phases against one kit context; see the module docstring."""

    def __init__(
        self,
        ctx: KitContext,
        *,
        actions: Mapping[str, Action] | None = None,
        gates: GateRunner = run_gate,
        admin: Callable[[], AdminClient] | None = None,
        traffic: TrafficDriver | None = None,
        queues: ConsumerQueues | None = None,
        ledger: Ledger | None = None,
        snapshot: Snapshot = public_snapshot,
    ) -> None:
        self.ctx = ctx
        self.actions = actions if actions is not None else actions_for(ctx.topology)
        self.run_gate = gates
        self.admin: Callable[[], AdminClient] = admin if admin is not None else ctx.admin
        self.traffic = traffic if traffic is not None else traffic_for(ctx)
        self.queues = queues if queues is not None else BrokerQueues(ctx.amqp_uri)
        self.ledger = ledger if ledger is not None else Ledger(ctx.ledger_path)
        self.snapshot = snapshot

    # -- processes ------------------------------------------------------------------------
    def up(self, phase: Phase, on_event: EventSink = _quiet) -> list[PreStepResult]:
        """Start what the phase needs and run its pre-steps; returns what each did.

        Processes start in topology order. A pre-step first gets the processes it
        ``needs`` (e.g. the model export needs MLflow before the inference service can
        become ready), then the rest of the phase's processes start. Pre-steps are
        idempotent, so ``up`` on a running phase changes nothing.
        """
        if "proxy" in phase.processes and self._manages_processes and not self._running("proxy"):
            routes_file = self.ctx.settings.workdir / "routes.yaml"
            routes_file.parent.mkdir(parents=True, exist_ok=True)
            routes_file.write_text(table_text(render_table(phase, self.ctx.urls())))
        done: list[PreStepResult] = []
        for pre in phase.pre_steps:
            self._ensure(pre.needs, on_event)
            on_event("pre-step", f"pre-step {pre.action}")
            message = self.actions[pre.action](self.ctx, dict(pre.options))
            on_event("pre-step", f"  {message}")
            done.append(PreStepResult(action=pre.action, result=message))
            self._record(
                phase, pre.action, LedgerAction.PRE_STEP, Outcome.PASS, {"result": message}
            )
        self._ensure(phase.processes, on_event)
        return done

    def down(self) -> bool:
        """Stop every process of this workdir; True when something was running."""
        return self.ctx.runner.shutdown()

    def _ensure(self, names: tuple[str, ...], on_event: EventSink) -> None:
        catalog = self.ctx.catalog
        wanted = set(with_replicas(catalog, names))
        specs = [spec for name, spec in catalog.items() if name in wanted]
        if not self._manages_processes:  # the platform runs them; only wait until ready
            on_event(
                "process", f"platform external: waiting for {', '.join(s.name for s in specs)}"
            )
            self.ctx.runner.ensure(specs, self.ctx.settings.ready_timeout_s)
            return
        for spec in specs:
            if not self._running(spec.name):
                on_event("process", f"starting {spec.name} ({spec.description})")
                if spec.consumer is not None and spec.replica_of is None:
                    # It consumes again: its queues keep messages again (see _stop_others).
                    self.queues.restore(spec.consumer)
        self.ctx.runner.ensure(specs, self.ctx.settings.ready_timeout_s)

    @property
    def _manages_processes(self) -> bool:
        """False on platform external: the kit starts, stops and retires nothing there."""
        return self.ctx.topology.platform is not Platform.EXTERNAL

    def _running(self, name: str) -> bool:
        return any(s.name == name and s.state == "RUNNING" for s in self.ctx.runner.states())

    # -- verify and apply -----------------------------------------------------------------
    def verify(self, phase: Phase, on_event: EventSink = _quiet) -> PhaseReport:
        """Run the phase's gates against the live system; write ``reports/phase-N.json``."""
        report = self._report(phase, "verify")
        report.gates = self._gates(phase, phase.gates, on_event, f"phase {phase.phase}")
        self._judge(report)
        report.finished_at = datetime.now(UTC)
        self._write(report)
        self._record(phase, "verify", LedgerAction.VERIFY, report.outcome, gates=report.gates)
        return report

    def apply(
        self,
        phase: Phase,
        on_event: EventSink = _quiet,
        *,
        candidate_override: str | None = None,
    ) -> PhaseReport:
        """Move traffic step by step; on a failed step revert to the last good table and stop."""
        if candidate_override is not None:
            phase = with_candidate(phase, candidate_override)
        report = self._report(phase, "apply")
        report.pre_steps = self.up(phase, on_event)
        with self.admin() as admin:
            last_good = admin.current()
            earlier: tuple[RoutePatch, ...] = ()
            for step in phase.steps:
                step_report = self._run_step(phase, step, admin, on_event, earlier)
                earlier = (*earlier, *step.set)
                report.steps.append(step_report)
                if step_report.outcome is not Outcome.PASS:
                    self._roll_back(phase, step_report, admin, last_good, on_event)
                    report.outcome = Outcome.FAIL
                    report.reason = f"step {step.name} failed: {step_report.reason}"
                    break
                self._record_step(phase, step_report, LedgerAction.STEP)
                last_good = admin.current()
        if report.outcome is Outcome.PASS:
            self._stop_others(phase, on_event)
            report.gates = self._gates(phase, phase.gates, on_event, f"phase {phase.phase}")
            self._judge(report)
        report.snapshot = self.snapshot(self.ctx)
        report.finished_at = datetime.now(UTC)
        self._write(report)
        self._record(
            phase,
            "apply",
            LedgerAction.APPLY,
            report.outcome,
            {"reason": report.reason, "candidate_override": candidate_override},
            gates=report.gates,
        )
        return report

    def _roll_back(
        self,
        phase: Phase,
        step: StepReport,
        admin: AdminClient,
        last_good: LiveTableOut,
        on_event: EventSink,
    ) -> None:
        """Put the last good table back; a proxy that refuses or is gone is said, not hidden."""
        try:
            restored = admin.apply(last_good.yaml)
        except (AdminError, AdminUnreachable) as exc:
            step.reason += f"; the rollback to table v{last_good.version} failed: {exc}"
            on_event("rollback", f"ROLLBACK FAILED (last good table v{last_good.version}): {exc}")
        else:
            step.rolled_back_to = restored.version
            on_event(
                "rollback",
                f"ROLLED BACK to the last good table (now v{restored.version}, "
                f"same as v{last_good.version}): {step.reason}",
            )
        self._record_step(phase, step, LedgerAction.ROLLBACK)

    def _run_step(
        self,
        phase: Phase,
        step: Step,
        admin: AdminClient,
        on_event: EventSink,
        earlier: tuple[RoutePatch, ...] = (),
    ) -> StepReport:
        # Patches accumulate: a step changes the table as the previous steps left it.
        table = render_table(phase, self.ctx.urls(), (*earlier, *step.set))
        try:
            applied = admin.apply(table_text(table))
        except AdminError as exc:
            return StepReport(
                name=step.name, outcome=Outcome.FAIL, reason=f"the proxy rejected the table: {exc}"
            )
        result = StepReport(name=step.name, outcome=Outcome.PASS, table_version=applied.version)
        on_event("step", f"step {step.name}: route table v{applied.version} applied")
        if step.traffic is not None:
            traffic = self.traffic(
                self.ctx.url("proxy"),
                rate_per_s=step.traffic.rate_per_s,
                duration_s=step.traffic.duration_s,
                predictions_share=step.traffic.predictions_share,
                drift=step.traffic.drift,
                seed=step.traffic.seed,
                token=self.ctx.token,
                id_prefix=f"p{phase.phase}-{step.name}",
            )
            result.traffic = traffic.summary()
            result.gates.append(client_requests_result(result.traffic))
            on_event("gate", f"{result.gates[-1].outcome.value:>17}  {result.gates[-1].summary}")
        result.gates += self._gates(phase, step.gates, on_event, f"step {step.name}")
        result.weights = {patch.route: candidate_share(patch) for patch in step.set}
        for patch in step.set:
            state = admin.route_state(patch.route)
            if state is not None:
                result.proxy_routes.append(state)
        result.finished_at = datetime.now(UTC)
        failed = [g for g in result.gates if not g.passed]
        if failed:
            result.outcome = Outcome.FAIL
            result.reason = "; ".join(f"{g.gate} {g.outcome.value}: {g.summary}" for g in failed)
        return result

    def _gates(
        self, phase: Phase, specs: Iterable[GateSpec], on_event: EventSink, where: str
    ) -> list[GateResult]:
        results = []
        for spec in specs:
            on_event("gate-start", f"{where}: {spec.kind} gate")
            started = time.monotonic()
            result = self.run_gate(self.ctx, phase, spec)
            result.duration_s = round(time.monotonic() - started, 2)
            on_event("gate", f"{result.outcome.value:>17}  {result.gate}: {result.summary}")
            results.append(result)
        return results

    def _stop_others(self, phase: Phase, on_event: EventSink) -> None:
        """Stop what the phase no longer needs, once no route points at it (decommissioning)."""
        wanted = with_replicas(self.ctx.catalog, phase.processes)
        others = [
            state.name
            for state in self.ctx.runner.states()
            if state.name not in wanted and state.state in ("RUNNING", "STARTING")
        ]
        if not others:
            return
        if not self._manages_processes:
            on_event(
                "process",
                f"{', '.join(others)} still answer but phase {phase.phase} does not need them; "
                "platform external: remove them on the platform (the kit stops nothing)",
            )
            return
        self.ctx.runner.stop(others)
        on_event("process", f"stopped {', '.join(others)}: not part of phase {phase.phase}")
        # A consumer the phase decommissions keeps no queue filling: every producer declares
        # its queues, so they would grow forever with events nobody will read.
        catalog = self.ctx.catalog
        consumers = sorted(
            {
                consumer
                for name in others
                if name in catalog and (consumer := catalog[name].consumer) is not None
            }
        )
        retired = [queue for consumer in consumers for queue in self.queues.retire(consumer)]
        if retired:
            on_event("process", f"retired the queues of {', '.join(consumers)}")
        self._record(
            phase,
            "stop",
            LedgerAction.STOP,
            Outcome.PASS,
            {"stopped": others, "retired_queues": retired},
        )

    # -- reports and the ledger -------------------------------------------------------------
    @staticmethod
    def _report(phase: Phase, command: str) -> PhaseReport:
        return PhaseReport(
            phase=phase.phase,
            name=phase.name,
            title=phase.title,
            command=command,
            outcome=Outcome.PASS,
            started_at=datetime.now(UTC),
        )

    @staticmethod
    def _judge(report: PhaseReport) -> None:
        failed = [g for g in report.gates if not g.passed]
        if failed:
            report.outcome = Outcome.FAIL
            report.reason = "; ".join(f"{g.gate}: {g.summary}" for g in failed)

    def _record(
        self,
        phase: Phase,
        step: str,
        action: LedgerAction,
        outcome: Outcome,
        details: dict[str, Any] | None = None,
        *,
        gates: list[GateResult] | None = None,
        table_version: int | None = None,
    ) -> None:
        self.ledger.append(
            LedgerEntry(
                phase=phase.phase,
                step=step,
                action=action,
                outcome=outcome,
                table_version=table_version,
                gates=gates or [],
                details=details or {},
            )
        )

    def _record_step(self, phase: Phase, step: StepReport, action: LedgerAction) -> None:
        self._record(
            phase,
            step.name,
            action,
            step.outcome,
            {"traffic": step.traffic, "reason": step.reason, "rolled_back_to": step.rolled_back_to},
            gates=step.gates,
            table_version=step.table_version,
        )

    def _write(self, report: PhaseReport) -> Path:
        self.ctx.reports.mkdir(parents=True, exist_ok=True)
        path = self.ctx.reports / f"phase-{report.phase}.json"
        path.write_text(report.model_dump_json(indent=2))
        return path
