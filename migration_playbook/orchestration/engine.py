"""The migration engine: bring a phase up, verify it, and apply it step by step.

``apply`` moves traffic through the proxy's admin API one step at a time, drives load with
the kit's traffic generator, then checks the step's gates (and that no client request
failed). On any failure it puts back the last good route table by itself, says which gate
failed and why, and stops. Every transition goes to the promotion ledger.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from contracts.client import ApiClient, ApiError
from eventbus import Management, build_topology, restore_consumer, retire_consumer
from migration_playbook.gates.registry import run_gate
from migration_playbook.gates.result import GateResult, Measurement, Outcome
from migration_playbook.orchestration import ledger
from migration_playbook.orchestration.actions import ACTIONS
from migration_playbook.phases.loader import render_table, table_text
from migration_playbook.phases.models import Phase, RoutePatch, Step
from migration_playbook.proxy_admin import AdminError, ProxyAdmin, mint_token
from migration_playbook.runner.catalog import ProcessSpec, process_catalog, with_replicas
from migration_playbook.runner.supervisor import Supervisor
from migration_playbook.settings import KitSettings
from migration_playbook.traffic import drive_sync

EventSink = Callable[[str, str], None]


def _quiet(_kind: str, _message: str) -> None:
    return None


@dataclass
class KitContext:
    """Everything a command needs to reach the running system."""

    settings: KitSettings
    catalog: dict[str, ProcessSpec] = field(init=False)
    supervisor: Supervisor = field(init=False)
    token: str = field(init=False)

    def __post_init__(self) -> None:
        self.catalog = process_catalog(self.settings)
        self.supervisor = Supervisor(self.settings.workdir)
        self.token = mint_token(self.settings.jwt_secret(), ttl_s=12 * 3600)

    def url(self, process: str) -> str:
        spec = self.catalog[process]
        if spec.url is None:
            raise ValueError(f"{process} has no HTTP port")
        return spec.url

    def urls(self) -> dict[str, str]:
        return {name: spec.url for name, spec in self.catalog.items() if spec.url}

    def admin(self) -> ProxyAdmin:
        return ProxyAdmin(self.url("proxy"), self.token)

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def reports(self) -> Path:
        return self.settings.reports

    @property
    def ledger_path(self) -> Path:
        return self.reports / "ledger.jsonl"


class StepReport(BaseModel):
    name: str
    outcome: Outcome
    table_version: int | None = None
    traffic: dict[str, Any] = Field(default_factory=dict)
    gates: list[GateResult] = Field(default_factory=list)
    rolled_back_to: int | None = None
    reason: str = ""
    weights: dict[str, float] = Field(
        default_factory=dict, description="Candidate weight per patched route (percent)."
    )
    proxy_routes: list[dict[str, Any]] = Field(
        default_factory=list, description="The proxy's live state of the patched routes."
    )
    finished_at: datetime | None = None


class PhaseReport(BaseModel):
    phase: int
    name: str
    title: str
    command: str
    outcome: Outcome
    reason: str = ""
    started_at: datetime
    finished_at: datetime | None = None
    pre_steps: list[dict[str, str]] = Field(default_factory=list)
    steps: list[StepReport] = Field(default_factory=list)
    gates: list[GateResult] = Field(default_factory=list)
    snapshot: dict[str, Any] = Field(
        default_factory=dict, description="Model versions and drift at the end, via the proxy."
    )


# -- processes ----------------------------------------------------------------------------


def up(ctx: KitContext, phase: Phase, on_event: EventSink = _quiet) -> list[dict[str, str]]:
    """Start what the phase needs and run its pre-steps; returns what each pre-step did.

    Processes start in catalog order. A pre-step first gets the processes it ``needs``
    (e.g. the model export needs MLflow before the inference service can become ready),
    then the rest of the phase's processes start. Pre-steps are idempotent, so ``up`` on a
    running phase changes nothing.
    """
    routes_file = ctx.settings.workdir / "routes.yaml"
    if "proxy" in phase.processes and not _running(ctx, "proxy"):
        routes_file.parent.mkdir(parents=True, exist_ok=True)
        routes_file.write_text(table_text(render_table(phase, ctx.urls())))
    done: list[dict[str, str]] = []
    for pre in phase.pre_steps:
        _ensure(ctx, pre.needs, on_event)
        on_event("pre-step", f"pre-step {pre.action}")
        message = ACTIONS[pre.action](ctx, dict(pre.options))
        on_event("pre-step", f"  {message}")
        done.append({"action": pre.action, "result": message})
        ledger.append(
            ctx.ledger_path,
            phase=phase.phase,
            step=pre.action,
            action="pre-step",
            outcome="pass",
            details={"result": message},
        )
    _ensure(ctx, phase.processes, on_event)
    return done


def _ensure(ctx: KitContext, names: tuple[str, ...], on_event: EventSink) -> None:
    names = with_replicas(ctx.catalog, names)
    specs = [ctx.catalog[name] for name in ctx.catalog if name in names]
    for spec in specs:
        if not _running(ctx, spec.name):
            on_event("process", f"starting {spec.name} ({spec.description})")
            if spec.consumer is not None and spec.replica_of is None:
                # It consumes again: its queues keep messages again (see _stop_others).
                restore_consumer(management(ctx), build_topology(), spec.consumer)
    ctx.supervisor.ensure(specs, ctx.settings.ready_timeout_s)


def management(ctx: KitContext) -> Management:
    """The broker's management API for the kit's vhost."""
    return Management.from_amqp_uri(ctx.settings.amqp_uri)


def _running(ctx: KitContext, name: str) -> bool:
    return any(s.name == name and s.state == "RUNNING" for s in ctx.supervisor.states())


def down(ctx: KitContext) -> bool:
    return ctx.supervisor.shutdown()


# -- verify and apply ---------------------------------------------------------------------


def _gates(
    ctx: KitContext, phase: Phase, specs: Any, on_event: EventSink, where: str
) -> list[GateResult]:
    results = []
    for spec in specs:
        on_event("gate-start", f"{where}: {spec.kind} gate")
        started = time.monotonic()
        result = run_gate(ctx, phase, spec)
        result.duration_s = round(time.monotonic() - started, 2)
        on_event("gate", f"{result.outcome.value:>17}  {result.gate}: {result.summary}")
        results.append(result)
    return results


def verify(ctx: KitContext, phase: Phase, on_event: EventSink = _quiet) -> PhaseReport:
    """Run the phase's gates against the live system; write ``reports/phase-N.json``."""
    report = PhaseReport(
        phase=phase.phase,
        name=phase.name,
        title=phase.title,
        command="verify",
        outcome=Outcome.PASS,
        started_at=datetime.now(UTC),
    )
    report.gates = _gates(ctx, phase, phase.gates, on_event, f"phase {phase.phase}")
    failed = [g for g in report.gates if not g.passed]
    if failed:
        report.outcome = Outcome.FAIL
        report.reason = "; ".join(f"{g.gate}: {g.summary}" for g in failed)
    report.finished_at = datetime.now(UTC)
    _write(ctx, report)
    ledger.append(
        ctx.ledger_path,
        phase=phase.phase,
        step="verify",
        action="verify",
        outcome=report.outcome.value,
        gates=report.gates,
    )
    return report


def _traffic_result(step: Step, traffic: dict[str, Any]) -> GateResult:
    failed = int(traffic.get("failed", 0))
    sent = int(traffic.get("sent", 0))
    return GateResult(
        gate="client-requests",
        outcome=Outcome.PASS if failed == 0 and sent > 0 else Outcome.FAIL,
        summary=f"{sent} requests through the proxy, {failed} failed for the client",
        measurements=[
            Measurement(name="failed_requests", value=failed, threshold="== 0", ok=failed == 0)
        ],
        details=traffic,
    )


def _candidate_share(patch: RoutePatch) -> float:
    """Percent of a route's traffic the candidate answers in a step (cut-over is 100)."""
    if patch.mode == "canary":
        return patch.weight or 0.0
    if patch.mode == "passthrough" and patch.primary is not None:
        return 100.0
    return 0.0


def _run_step(
    ctx: KitContext,
    phase: Phase,
    step: Step,
    admin: ProxyAdmin,
    on_event: EventSink,
    earlier: tuple[RoutePatch, ...] = (),
) -> StepReport:
    # Patches accumulate: a step changes the table as the previous steps left it.
    table = render_table(phase, ctx.urls(), (*earlier, *step.set))
    try:
        applied = admin.apply(table_text(table))
    except AdminError as exc:
        return StepReport(
            name=step.name, outcome=Outcome.FAIL, reason=f"the proxy rejected the table: {exc}"
        )
    result = StepReport(name=step.name, outcome=Outcome.PASS, table_version=applied["version"])
    on_event("step", f"step {step.name}: route table v{applied['version']} applied")
    if step.traffic is not None:
        traffic = drive_sync(
            ctx.url("proxy"),
            rate_per_s=step.traffic.rate_per_s,
            duration_s=step.traffic.duration_s,
            predictions_share=step.traffic.predictions_share,
            drift=step.traffic.drift,
            seed=step.traffic.seed,
            token=ctx.token,
            id_prefix=f"p{phase.phase}-{step.name}",
        )
        result.traffic = traffic.summary()
        result.gates.append(_traffic_result(step, result.traffic))
        on_event("gate", f"{result.gates[-1].outcome.value:>17}  {result.gates[-1].summary}")
    result.gates += _gates(ctx, phase, step.gates, on_event, f"step {step.name}")
    result.weights = {
        patch.route: (patch.weight or 0.0)
        if patch.mode == "canary"
        else (100.0 if patch.mode == "passthrough" and patch.primary else 0.0)
        for patch in step.set
    }
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


def apply(
    ctx: KitContext,
    phase: Phase,
    on_event: EventSink = _quiet,
    *,
    candidate_override: str | None = None,
) -> PhaseReport:
    """Move traffic step by step; on a failed step revert to the last good table and stop."""
    if candidate_override is not None:
        phase = _with_candidate(phase, candidate_override)
    report = PhaseReport(
        phase=phase.phase,
        name=phase.name,
        title=phase.title,
        command="apply",
        outcome=Outcome.PASS,
        started_at=datetime.now(UTC),
    )
    report.pre_steps = up(ctx, phase, on_event)
    with ctx.admin() as admin:
        last_good = admin.current()
        earlier: tuple[RoutePatch, ...] = ()
        for step in phase.steps:
            step_report = _run_step(ctx, phase, step, admin, on_event, earlier)
            earlier = (*earlier, *step.set)
            report.steps.append(step_report)
            if step_report.outcome is not Outcome.PASS:
                restored = admin.apply(last_good["yaml"])
                step_report.rolled_back_to = restored["version"]
                report.outcome = Outcome.FAIL
                report.reason = f"step {step.name} failed: {step_report.reason}"
                on_event(
                    "rollback",
                    f"ROLLED BACK to the last good table (now v{restored['version']}, "
                    f"same as v{last_good['version']}): {step_report.reason}",
                )
                _ledger_step(ctx, phase, step_report, "rollback")
                break
            _ledger_step(ctx, phase, step_report, "step")
            last_good = admin.current()
    if report.outcome is Outcome.PASS:
        _stop_others(ctx, phase, on_event)
        report.gates = _gates(ctx, phase, phase.gates, on_event, f"phase {phase.phase}")
        failed = [g for g in report.gates if not g.passed]
        if failed:
            report.outcome = Outcome.FAIL
            report.reason = "; ".join(f"{g.gate}: {g.summary}" for g in failed)
    report.snapshot = _snapshot(ctx)
    report.finished_at = datetime.now(UTC)
    _write(ctx, report)
    ledger.append(
        ctx.ledger_path,
        phase=phase.phase,
        step="apply",
        action="apply",
        outcome=report.outcome.value,
        gates=report.gates,
        details={"reason": report.reason, "candidate_override": candidate_override},
    )
    return report


def _stop_others(ctx: KitContext, phase: Phase, on_event: EventSink) -> None:
    """Stop what the phase no longer needs, once no route points at it (decommissioning)."""
    wanted = with_replicas(ctx.catalog, phase.processes)
    others = [
        state.name
        for state in ctx.supervisor.states()
        if state.name not in wanted and state.state in ("RUNNING", "STARTING")
    ]
    if not others:
        return
    ctx.supervisor.stop(others)
    on_event("process", f"stopped {', '.join(others)}: not part of phase {phase.phase}")
    # A consumer the phase decommissions keeps no queue filling: every producer declares
    # its queues, so they would grow forever with events nobody will read.
    consumers = sorted(
        {
            consumer
            for name in others
            if name in ctx.catalog and (consumer := ctx.catalog[name].consumer) is not None
        }
    )
    retired = [
        queue
        for consumer in consumers
        for queue in retire_consumer(management(ctx), build_topology(), consumer)
    ]
    if retired:
        on_event("process", f"retired the queues of {', '.join(consumers)}")
    ledger.append(
        ctx.ledger_path,
        phase=phase.phase,
        step="stop",
        action="stop",
        outcome="pass",
        details={"stopped": others, "retired_queues": retired},
    )


def _ledger_step(ctx: KitContext, phase: Phase, step: StepReport, action: str) -> None:
    ledger.append(
        ctx.ledger_path,
        phase=phase.phase,
        step=step.name,
        action=action,
        outcome=step.outcome.value,
        table_version=step.table_version,
        gates=step.gates,
        details={
            "traffic": step.traffic,
            "reason": step.reason,
            "rolled_back_to": step.rolled_back_to,
        },
    )


def _with_candidate(phase: Phase, candidate: str) -> Phase:
    """The same phase with the canary steps' candidate replaced by another process.

    Used to rehearse a rollback with a faulty build: shadow steps keep the real candidate
    (a shadow never reaches clients), every canary patch points at ``candidate``, whose
    upstream entry copies the original candidate's settings with the new URL.
    """
    table = dict(phase.route_table)
    upstreams = dict(table.get("upstreams", {}))
    originals = {p.candidate for s in phase.steps for p in s.set if p.mode == "canary"}
    template = next((dict(upstreams[name]) for name in originals if name in upstreams), {})
    upstreams[candidate] = {**template, "url": f"{{{candidate}}}"}
    table["upstreams"] = upstreams
    steps = tuple(
        step.model_copy(
            update={
                "set": tuple(
                    p.model_copy(update={"candidate": candidate}) if p.mode == "canary" else p
                    for p in step.set
                )
            }
        )
        for step in phase.steps
    )
    processes = phase.processes if candidate in phase.processes else (*phase.processes, candidate)
    return phase.model_copy(update={"steps": steps, "route_table": table, "processes": processes})


def _snapshot(ctx: KitContext) -> dict[str, Any]:
    """Model versions and the drift report as the public API shows them now (best effort)."""
    out: dict[str, Any] = {}
    try:
        with ApiClient(ctx.url("proxy"), headers=ctx.auth_headers, timeout=30) as client:
            out["models"] = client.list_models().model_dump(mode="json")
            out["drift"] = client.drift_report(window=500).model_dump(mode="json")
    except (ApiError, ValueError) as exc:
        out["error"] = str(exc)
    return out


def _write(ctx: KitContext, report: PhaseReport) -> Path:
    ctx.reports.mkdir(parents=True, exist_ok=True)
    path = ctx.reports / f"phase-{report.phase}.json"
    path.write_text(report.model_dump_json(indent=2))
    return path
