"""The decommission gate: the named processes are stopped and nothing answers on their ports."""

from __future__ import annotations

import socket

from migration_playbook.gates.result import GateResult, Measurement, Outcome
from migration_playbook.phases.models import StoppedGate
from migration_playbook.runner.catalog import ProcessSpec
from migration_playbook.runner.supervisor import ProcessState


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def stopped_gate(
    spec: StoppedGate, states: list[ProcessState], catalog: dict[str, ProcessSpec]
) -> GateResult:
    running = {s.name for s in states if s.state in ("RUNNING", "STARTING")}
    measurements = []
    for name in spec.processes:
        port = catalog[name].port
        answering = port is not None and _listening(port)
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
