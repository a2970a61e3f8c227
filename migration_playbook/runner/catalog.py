"""Every process the kit can start, and how, as the runner needs it: rendered from the
topology (see ``migration_playbook.topology``) for one workdir.

A phase file names processes from this catalog. Consumer-only replicas
(``<name>-consumer-<i>``) are added for each process whose topology entry asks for more
than one.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from migration_playbook.topology import ProcessDef, Resolver


@dataclass(frozen=True)
class ProcessSpec:
    """How to run one process. ``ready_path`` None means: running is ready (no HTTP).
    ``argv`` is empty on platform external (the kit runs nothing there)."""

    name: str
    argv: tuple[str, ...]
    url: str | None
    env: dict[str, str] = field(default_factory=dict)
    ready_path: str | None = "/readyz"
    description: str = ""
    #: The address it listens on (its URL's host unless the topology says otherwise).
    bind: str | None = None
    #: A consumer-only replica of this process: started and stopped with it.
    replica_of: str | None = None
    #: Its name in the event table when it consumes events (its queues are retired when a
    #: phase decommissions it).
    consumer: str | None = None

    @property
    def host(self) -> str | None:
        return urlsplit(self.url).hostname if self.url else None

    @property
    def port(self) -> int | None:
        return urlsplit(self.url).port if self.url else None


def _spec(name: str, process: ProcessDef, resolver: Resolver) -> ProcessSpec:
    if process.module is not None:
        command: tuple[str, ...] = (sys.executable, "-m", process.module)
    else:  # a command, or nothing at all (platform external: the kit runs nothing)
        command = tuple(resolver.value(part, process) for part in process.command or ())
    argv = (*command, *(resolver.value(arg, process) for arg in process.args))
    env = resolver.env(resolver.topology.env, process)
    env |= {variable: resolver.store_url(store) for variable, store in process.databases.items()}
    env |= resolver.env(process.env, process)
    if process.url is not None:
        # Every deployable reads HOST and PORT (besides its own prefixed names).
        env.setdefault("HOST", str(process.bind or process.host))
        env.setdefault("PORT", str(process.port))
    return ProcessSpec(
        name,
        argv,
        process.url,
        env,
        process.health,
        process.description,
        bind=process.bind or process.host,
        consumer=process.consumer,
    )


def _replicas(
    name: str, process: ProcessDef, main: ProcessSpec, resolver: Resolver
) -> list[ProcessSpec]:
    """``<name>-consumer-<i>`` for i in 2..N: the same queues and stores, no port."""
    recipe = process.replica
    if recipe is None or process.replicas < 2:
        return []
    env = {k: v for k, v in main.env.items() if k not in ("HOST", "PORT")}
    env |= resolver.env(recipe.env, process)
    argv = (*main.argv, *(resolver.value(arg, process) for arg in recipe.args))
    return [
        ProcessSpec(
            f"{name}-consumer-{index}",
            argv,
            None,
            env,
            ready_path=None,
            description=f"consumer-only replica {index} of {name}",
            replica_of=name,
            consumer=main.consumer,
        )
        for index in range(2, process.replicas + 1)
    ]


def process_catalog(resolver: Resolver) -> dict[str, ProcessSpec]:
    """All processes of the topology for this workdir, by name, in the topology's order."""
    catalog: dict[str, ProcessSpec] = {}
    for name, process in resolver.topology.processes.items():
        main = _spec(name, process, resolver)
        catalog[name] = main
        for replica in _replicas(name, process, main, resolver):
            catalog[replica.name] = replica
    return catalog


def with_replicas(catalog: dict[str, ProcessSpec], names: tuple[str, ...]) -> tuple[str, ...]:
    """``names`` plus the consumer replicas of those among them, in catalog order."""
    wanted = set(names)
    return tuple(
        name
        for name, spec in catalog.items()
        if name in wanted or (spec.replica_of is not None and spec.replica_of in wanted)
    )
