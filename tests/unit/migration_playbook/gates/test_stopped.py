"""The decommission gate fails while a process runs or its port still answers."""

from __future__ import annotations

import socket
from pathlib import Path

from migration_playbook.gates.result import Outcome
from migration_playbook.gates.stopped import stopped_gate
from migration_playbook.phases.models import StoppedGate
from migration_playbook.runner.base import ProcessState
from migration_playbook.runner.catalog import process_catalog
from migration_playbook.runner.process import free_port
from migration_playbook.topology import Resolver, load_topology
from migration_playbook.topology.edit import with_changes


def test_stopped_processes_pass_and_a_listening_port_fails() -> None:
    port = free_port()
    topology = with_changes(load_topology(), urls={"monolith": f"http://127.0.0.1:{port}"})
    resolver = Resolver(topology, Path("/tmp/kit-unit"), "amqp://127.0.0.1/", lambda _n: "s")
    catalog = process_catalog(resolver)
    spec = StoppedGate(kind="stopped", processes=("monolith",))
    assert stopped_gate(spec, [], catalog).outcome is Outcome.PASS

    running = [ProcessState("monolith", "RUNNING", 123, "pid 123")]
    assert stopped_gate(spec, running, catalog).outcome is Outcome.FAIL

    with socket.socket() as listener:  # something else still answers on the port
        listener.bind(("127.0.0.1", port))
        listener.listen()
        result = stopped_gate(spec, [], catalog)
    assert result.outcome is Outcome.FAIL and "port open" in result.summary
