"""Running the processes of a topology: the runner protocol and the platforms behind it."""

from __future__ import annotations

from pathlib import Path

from migration_playbook.runner.base import ProcessState, Runner
from migration_playbook.topology import Platform, Topology


def runner_for(topology: Topology, workdir: Path) -> Runner:
    """The runner of a topology's platform for one kit workdir."""
    if topology.platform is Platform.LOCAL:
        from migration_playbook.runner.supervisor import Supervisor

        return Supervisor(workdir)
    if topology.platform is Platform.EXTERNAL:
        from migration_playbook.runner.external import ExternalRunner

        return ExternalRunner(topology)
    raise ValueError(f"no runner for platform {topology.platform!r}")


__all__ = ["ProcessState", "Runner", "runner_for"]
