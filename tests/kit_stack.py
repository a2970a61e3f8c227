"""A real kit stack for the migration engine's e2e and fault tests (session-scoped).

Every process runs for real under the kit's supervisor on free 127.0.0.1 ports (a topology
file written for the run), with its own workdir and its own RabbitMQ vhost, so nothing
collides with a developer's `kit up`.
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
def kit_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KitContext]:
    root = tmp_path_factory.mktemp("kit")
    topology_file = dump_topology(relocated(), root / "topology.yaml")
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
