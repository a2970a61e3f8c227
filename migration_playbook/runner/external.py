"""The runner of platform ``external``: a deployment the kit did not start and never changes.

It answers the engine's questions from the processes' own health endpoints (a process is
``RUNNING`` when its ``health`` path answers 200) and refuses everything else: ``ensure``
starts nothing, it waits until every wanted process is ready and fails naming those that
are not; ``stop`` and ``shutdown`` stop nothing. The platform (Kubernetes, compose, an
operator) owns the processes; the kit owns the gates and the route table.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import httpx

from migration_playbook.runner.base import ProcessState
from migration_playbook.runner.catalog import ProcessSpec
from migration_playbook.runner.process import ProcessFailed
from migration_playbook.topology import Topology

#: States beside supervisord's: a process that answers, but not 200 on its health path,
#: and one whose URL does not answer at all. A worker with no URL cannot be seen.
NOT_READY, UNREACHABLE, UNKNOWN = "NOT_READY", "UNREACHABLE", "UNKNOWN"


class ExternalRunner:
    """Health probes over the topology's URLs; starts and stops nothing."""

    def __init__(self, topology: Topology, probe_timeout_s: float = 2.0) -> None:
        self.topology = topology
        self.probe_timeout_s = probe_timeout_s

    def _probe(self, url: str | None, path: str | None) -> tuple[str, str]:
        if url is None:
            return UNKNOWN, "no URL: a worker the kit cannot see"
        target = url + (path or "/")
        try:
            response = httpx.get(target, timeout=self.probe_timeout_s)
        except httpx.HTTPError as exc:
            return UNREACHABLE, f"{target}: {type(exc).__name__}"
        if path is None or response.status_code == 200:
            return "RUNNING", f"external, {target} answered {response.status_code}"
        return NOT_READY, f"{target} answered {response.status_code}"

    def ensure(self, specs: Sequence[ProcessSpec], ready_timeout: float) -> list[str]:
        """Wait until each wanted process is ready; start nothing (returns no names)."""
        deadline = time.monotonic() + ready_timeout
        pending = {spec.name: spec for spec in specs if spec.url is not None}
        last: dict[str, str] = {}
        while pending:
            for name, spec in list(pending.items()):
                state, why = self._probe(spec.url, spec.ready_path)
                if state == "RUNNING":
                    del pending[name]
                else:
                    last[name] = why
            if not pending or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
        if pending:
            details = "; ".join(f"{name}: {last[name]}" for name in pending)
            raise ProcessFailed(
                f"platform external: the kit starts nothing, and after {ready_timeout:.0f}s "
                f"these are not ready: {details}. Deploy them (or fix their URLs in the "
                "topology) and run the command again."
            )
        return []

    def states(self) -> list[ProcessState]:
        out = []
        for name, process in self.topology.processes.items():
            state, why = self._probe(process.url, process.health)
            out.append(ProcessState(name, state, None, why))
        return out

    def stop(self, names: Iterable[str]) -> None:
        listed = ", ".join(names)
        raise ProcessFailed(
            f"platform external: the kit stops nothing; stop {listed} on the platform"
        )

    def shutdown(self) -> bool:
        """Nothing to stop: the kit started nothing (False, and ``kit down`` says so)."""
        return False

    def running(self) -> bool:
        """A deployment is always there to look at; ``states`` says what answers."""
        return True

    def log_path(self, name: str) -> Path:
        return Path(f"(platform logs of {name})")
