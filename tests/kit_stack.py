"""A real kit stack for the migration engine's e2e and fault tests (session-scoped).

Every process runs for real under the kit's supervisor on free 127.0.0.1 ports, with its
own workdir and its own RabbitMQ vhost, so nothing collides with a developer's `kit up`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from migration_playbook.orchestration.engine import KitContext, down
from migration_playbook.runner.process import free_port
from migration_playbook.settings import KitSettings
from tests.amqp_support import fresh_vhost


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
    ports = {
        name: free_port()
        for name in (
            "monolith_port",
            "legacy_sync_port",
            "chaos_port",
            "proxy_port",
            "ingestion_port",
            "inference_port",
            "training_port",
            "monitoring_port",
            "mlflow_port",
        )
    }
    with fresh_vhost("kit-e2e") as uri:
        settings = KitSettings.model_validate(
            {"workdir": root / "var", "reports_dir": root / "reports", "amqp_uri": uri, **ports}
        )
        ctx = KitContext(settings)
        try:
            yield ctx
        finally:
            down(ctx)
