"""Which function runs which kind of gate: a new kind of check is one entry here."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from contracts import pacts
from migration_playbook.context import KitContext
from migration_playbook.gates.closed_loop import closed_loop_gate
from migration_playbook.gates.load import run_k6, with_latency_slack
from migration_playbook.gates.model_check import model_gate
from migration_playbook.gates.promotion import promotion_gate
from migration_playbook.gates.provider_states import StatesFactory
from migration_playbook.gates.proxy_checks import canary_gate, shadow_gate
from migration_playbook.gates.read_back import read_back_gate
from migration_playbook.gates.reconciliation import audit_gate, ingestion_gate
from migration_playbook.gates.result import GateResult, Measurement, Outcome
from migration_playbook.gates.stopped import stopped_gate
from migration_playbook.phases.models import (
    CanaryGate,
    ClosedLoopGate,
    ContractsGate,
    LoadGate,
    ModelGate,
    Phase,
    PromotionGate,
    ReadBackGate,
    ReconciliationGate,
    ShadowGate,
    StoppedGate,
)
from migration_playbook.topology import load_hook


def _load(ctx: KitContext, phase: Phase, spec: LoadGate) -> GateResult:
    slack = ctx.settings.latency_slack
    result = run_k6(
        ctx.loadtests_dir / spec.script,
        base_url=ctx.url(spec.target),
        out_dir=ctx.reports / f"phase-{phase.phase}",
        label=f"phase{phase.phase}-{spec.script.removesuffix('.js')}",
        vus=spec.vus,
        duration_s=spec.duration_s,
        thresholds=with_latency_slack(spec.thresholds, slack),
        rate_per_s=spec.rate_per_s,
        token=ctx.token,
        transactions_data=spec.transactions_data,
    )
    if slack != 1:
        result.summary += f" (latency bounds x{slack:g}, KIT_LATENCY_SLACK)"
        result.details["latency_slack"] = slack
    return result


@contextmanager
def _stdout_to(path: Path) -> Iterator[None]:
    """Send file descriptor 1 (not just ``sys.stdout``) to ``path`` for the block."""
    sys.stdout.flush()
    saved = os.dup(1)
    with path.open("ab") as target:
        os.dup2(target.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def _contracts(ctx: KitContext, phase: Phase, spec: ContractsGate) -> GateResult:
    from migration_playbook.gates.contracts import verify_pacts

    measurements = []
    details: dict[str, Any] = {}
    evidence = []
    out_dir = ctx.reports / f"phase-{phase.phase}"
    out_dir.mkdir(parents=True, exist_ok=True)
    # The migration's own pacts and states (the topology's kit: section), else the bundled.
    kit = ctx.topology.kit
    files = [Path(p) for p in kit.pacts] or None
    states: StatesFactory | None = None
    if kit.provider_states is not None:
        states = cast(StatesFactory, load_hook(kit.provider_states))
    for target in spec.targets:
        headers = ctx.auth_headers if target == "proxy" else {}
        log = out_dir / f"pact-verification-{target}.log"
        with _stdout_to(log):  # Pact's core prints its report on fd 1; keep it as evidence
            result = verify_pacts(
                ctx.url(target),
                pact_files=files,
                provider=kit.pact_provider or pacts.API_PROVIDER,
                exclude_states=spec.exclude_states or (),
                exclude_fresh=spec.exclude_states is None,
                headers=headers,
                states=states,
            )
        evidence.append(str(log))
        path = out_dir / f"pact-verification-{target}.json"
        path.write_text(json.dumps(result.to_dict(), indent=2, default=str))
        evidence.append(str(path))
        counts = result.counts
        details[target] = counts
        measurements.append(
            Measurement(
                name=f"{target} interactions failed",
                value=counts["failed"],
                threshold=f"== 0 (passed {counts['passed']}, excluded {counts['excluded']})",
                ok=result.passed,
            )
        )
    ok = all(m.ok for m in measurements)
    return GateResult(
        gate="contracts",
        outcome=Outcome.PASS if ok else Outcome.FAIL,
        summary=", ".join(
            f"{t}: {c['passed']} passed, {c['failed']} failed, {c['excluded']} excluded"
            for t, c in details.items()
        ),
        measurements=measurements,
        evidence=evidence,
        details=details,
    )


def _shadow(ctx: KitContext, phase: Phase, spec: ShadowGate) -> GateResult:
    with ctx.admin() as admin:
        return shadow_gate(spec, admin)


def _canary(ctx: KitContext, phase: Phase, spec: CanaryGate) -> GateResult:
    with ctx.admin() as admin:
        return canary_gate(spec, admin)


def _model(ctx: KitContext, phase: Phase, spec: ModelGate) -> GateResult:
    headers = ctx.auth_headers if spec.target == "proxy" else {}
    parity = ctx.url(spec.parity_with) if spec.parity_with else None
    return model_gate(spec, ctx.url(spec.target), headers, parity)


def _reconciliation(ctx: KitContext, phase: Phase, spec: ReconciliationGate) -> GateResult:
    source, target = ctx.store_url(spec.source), ctx.store_url(str(spec.target))
    if spec.check == "ingestion":
        return ingestion_gate(spec, target, source, ctx.amqp_uri)
    return audit_gate(spec, source, target, ctx.amqp_uri)


def _read_back(ctx: KitContext, phase: Phase, spec: ReadBackGate) -> GateResult:
    sides = {side: ctx.url(side) for side in spec.sides}
    return read_back_gate(spec, ctx.url("proxy"), ctx.auth_headers, sides)


def _promotion(ctx: KitContext, phase: Phase, spec: PromotionGate) -> GateResult:
    headers = ctx.auth_headers if spec.target == "proxy" else {}
    return promotion_gate(spec, ctx.url(spec.target), headers, ctx.url(spec.served_by))


def _closed_loop(ctx: KitContext, phase: Phase, spec: ClosedLoopGate) -> GateResult:
    return closed_loop_gate(
        spec, ctx.url("proxy"), ctx.auth_headers, ctx.url("inference"), ctx.token
    )


def _stopped(ctx: KitContext, phase: Phase, spec: StoppedGate) -> GateResult:
    return stopped_gate(spec, ctx.runner.states(), ctx.catalog)


GATES: dict[type[Any], Callable[..., GateResult]] = {
    StoppedGate: _stopped,
    ClosedLoopGate: _closed_loop,
    PromotionGate: _promotion,
    ReconciliationGate: _reconciliation,
    LoadGate: _load,
    ContractsGate: _contracts,
    ShadowGate: _shadow,
    CanaryGate: _canary,
    ReadBackGate: _read_back,
    ModelGate: _model,
}


def run_gate(ctx: KitContext, phase: Phase, spec: Any) -> GateResult:
    """Run one gate; a gate that raises is a failure that says what broke, never a pass."""
    runner = GATES.get(type(spec))
    if runner is None:
        return GateResult(
            gate=spec.kind,
            outcome=Outcome.FAIL,
            summary=f"no implementation for gate kind {spec.kind!r} in this kit",
        )
    try:
        return runner(ctx, phase, spec)
    except Exception as exc:  # noqa: BLE001 - reported as the gate's failure, with its type
        return GateResult(
            gate=spec.kind,
            outcome=Outcome.FAIL,
            summary=f"the gate itself failed: {type(exc).__name__}: {exc}",
        )
