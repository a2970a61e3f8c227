"""A real kit stack for the migration engine's e2e and fault tests (session-scoped).

Every process runs for real under the kit's supervisor, from a topology file written for
the run: each deployable on a loopback address of its own (127.0.0.2, 127.0.0.3, ...) on a
free port, every store in a fresh PostgreSQL database made for the run, with its own
workdir and its own RabbitMQ vhost, so nothing collides with a developer's `kit up`. The
kit reaches processes and stores only through the topology; the bundled defaults (SQLite,
127.0.0.1) are what `make demo` and the other e2e stacks run.

This stack runs the phase files' real gates, at their own latency bounds: the margin
between what the migrated system measures and those bounds is what keeps it green
(docs/performance.md). The other e2e stacks, whose subject is not the gates (the workshop,
the external platform, the helpdesk, the docs), run at ``TEST_LATENCY_SLACK``
(``KIT_LATENCY_SLACK``): they judge that a phase works and loses nothing on whatever
machine runs them.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from migration_playbook.context import KitContext
from migration_playbook.orchestration.engine import Engine
from migration_playbook.settings import KitSettings
from migration_playbook.topology import Topology, load_topology
from migration_playbook.topology.edit import dump_topology, with_changes
from tests.amqp_support import fresh_vhost
from tests.postgres_support import fresh_databases

#: The shared stack's addresses: one loopback address per deployable.
HOSTS = {
    "monolith": "127.0.0.2",
    "legacy-sync": "127.0.0.2",
    "proxy": "127.0.0.3",
    "mlflow": "127.0.0.4",
    "inference": "127.0.0.5",
    "ingestion": "127.0.0.6",
    "chaos": "127.0.0.7",
    "training": "127.0.0.8",
    "monitoring": "127.0.0.9",
}
#: The stores the shared stack keeps on PostgreSQL (every store of the bundled topology).
STORES = ("monolith", "ingestion", "inference", "training", "monitoring")
#: Latency bounds x3 in the e2e stacks that test something else than the gates.
TEST_LATENCY_SLACK = 3.0


def free_port_on(host: str) -> int:
    """A TCP port on ``host`` (a loopback address) that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def relocated(
    hosts: dict[str, str] | None = None, stores: dict[str, str] | None = None
) -> Topology:
    """The bundled topology with every process on a free port of its host (default
    127.0.0.1, or ``hosts[name]``) and some stores elsewhere."""
    topology = load_topology()
    urls = {}
    for name, process in topology.processes.items():
        if process.url is not None:
            host = (hosts or {}).get(name, "127.0.0.1")
            urls[name] = f"http://{host}:{free_port_on(host)}"
    return with_changes(topology, urls=urls, stores=stores)


def group_members(pgid: int) -> list[int]:
    """Every live process in a process group (read from /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) == pgid:
                members.append(int(entry.name))
        except (ProcessLookupError, PermissionError):
            continue
    return members


@pytest.fixture(scope="session")
def kit_stores() -> Iterator[dict[str, str]]:
    """The shared stack's store URLs: fresh PostgreSQL databases, dropped at the end."""
    with fresh_databases("aikit_e2e", STORES) as stores:
        yield stores


@pytest.fixture(scope="session")
def kit_stack(
    tmp_path_factory: pytest.TempPathFactory, kit_stores: dict[str, str]
) -> Iterator[KitContext]:
    root = tmp_path_factory.mktemp("kit")
    topology_file = dump_topology(relocated(HOSTS, kit_stores), root / "topology.yaml")
    with fresh_vhost("kit-e2e") as uri:
        settings = KitSettings.model_validate(
            {
                "workdir": root / "var",
                "reports_dir": root / "reports",
                "amqp_uri": uri,
                "topology_file": topology_file,
            }
        )
        ctx = KitContext.create(settings)
        try:
            yield ctx
        finally:
            Engine(ctx).down()
