"""What the engine needs of a platform's runner: start, inspect and stop processes.

The engine, the gates and the CLI see only this protocol; ``local`` (supervisord on this
machine) is one implementation, chosen from the topology's ``platform`` by
``runner_for``. Tests pass a fake.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from migration_playbook.runner.catalog import ProcessSpec


@dataclass(frozen=True)
class ProcessState:
    """What the runner knows of one process."""

    name: str
    state: str  # RUNNING, STARTING, STOPPED, EXITED, FATAL, ...
    pid: int | None
    description: str


class Runner(Protocol):
    def ensure(self, specs: Sequence[ProcessSpec], ready_timeout: float) -> list[str]:
        """Start those not running and wait until each is ready; the names started now."""
        ...

    def states(self) -> list[ProcessState]: ...

    def stop(self, names: Iterable[str]) -> None: ...

    def shutdown(self) -> bool:
        """Stop everything; True when something was running."""
        ...

    def running(self) -> bool: ...

    def log_path(self, name: str) -> Path: ...
