"""The decommission gate: the named processes are stopped and nothing answers on their ports."""

from __future__ import annotations

from migration_playbook.gates.result import GateResult, Measurement, Outcome
from migration_playbook.phases.models import StoppedGate
from migration_playbook.runner.base import ProcessState
from migration_playbook.runner.catalog import ProcessSpec
from migration_playbook.runner.process import port_in_use


def stopped_gate(
    spec: StoppedGate, states: list[ProcessState], catalog: dict[str, ProcessSpec]
) -> GateResult:
    running = {s.name for s in states if s.state in ("RUNNING", "STARTING")}
    measurements = []
    for name in spec.processes:
        process = catalog[name]
        answering = process.port is not None and port_in_use(
            process.port, process.host or "127.0.0.1"
        )
        measurements.append(
            Measurement(
                name=f"{name} stopped",
                value="running" if name in running else ("port open" if answering else "stopped"),
                threshold="stopped, port closed",
                ok=name not in running and not answering,
            )
        )
    ok = all(m.ok for m in measurements)
    return GateResult(
        gate="decommissioned",
        outcome=Outcome.PASS if ok else Outcome.FAIL,
        summary=", ".join(f"{m.name.removesuffix(' stopped')}: {m.value}" for m in measurements),
        measurements=measurements,
    )
