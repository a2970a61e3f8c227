"""Every file ``kit render compose`` writes under ``compose/``, as path -> text.

One function renders them all from the topology and the phase files, so the command and
the drift test (``check_files``) can never disagree on what "rendered" means.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from migration_playbook.phases.loader import render_table, table_text
from migration_playbook.phases.models import Phase
from migration_playbook.render.compose import (
    RenderError,
    container_url,
    database_names,
    phase_processes,
    render_compose,
)
from migration_playbook.render.dashboard import (
    dashboard_provisioning,
    datasource_provisioning,
    render_dashboard,
)
from migration_playbook.render.dockerfiles import image_files
from migration_playbook.render.prometheus import render_prometheus
from migration_playbook.topology import Topology

__all__ = ["RenderError", "check_files", "render_files", "write_files"]

_HEADER = (
    "# Rendered by `kit render compose` from the topology and the phase files; do not edit.\n"
    "# A test fails when this file differs from what the kit renders.\n"
)


def _yaml(data: Any, header: str = _HEADER) -> str:
    return header + yaml.safe_dump(data, sort_keys=False, width=100)


def _postgres_init(topology: Topology) -> str:
    lines = [
        "-- Rendered by `kit render compose`: one database per store (no service shares one).",
        *[f"CREATE DATABASE {name};" for name in database_names(topology)],
    ]
    return "\n".join(lines) + "\n"


def _route_table(topology: Topology, phase: Phase) -> str:
    urls = {
        name: container_url(name, topology.processes[name])
        for name in phase_processes(topology, phase)
        if topology.processes[name].url is not None
    }
    return _HEADER + table_text(render_table(phase, urls))


def render_files(
    topology: Topology, phases: Iterable[Phase], *, images: bool = True
) -> dict[str, str]:
    """Path relative to the repository -> text, for every phase and the shared files."""
    files: dict[str, str] = {}
    for phase in phases:
        n = phase.phase
        compose_header = (
            _HEADER
            + f"# Phase {n}: {phase.title}.\n"
            + f"# Run: docker compose -f compose/phase-{n}.yaml up --build\n"
        )
        files[f"compose/phase-{n}.yaml"] = _yaml(render_compose(topology, phase), compose_header)
        files[f"compose/routes/phase-{n}.yaml"] = _route_table(topology, phase)
        files[f"compose/prometheus/phase-{n}.yml"] = _yaml(render_prometheus(topology, phase))
    files["compose/postgres/init/01-databases.sql"] = _postgres_init(topology)
    files["compose/grafana/provisioning/datasources/prometheus.yaml"] = _yaml(
        datasource_provisioning()
    )
    files["compose/grafana/provisioning/dashboards/kit.yaml"] = _yaml(dashboard_provisioning())
    files["compose/grafana/dashboards/migration.json"] = (
        json.dumps(render_dashboard(), indent=2) + "\n"
    )
    if images:
        files.update(image_files())
    return dict(sorted(files.items()))


def write_files(root: Path, files: dict[str, str]) -> list[str]:
    """Write what changed; the paths written."""
    written = []
    for relative, text in files.items():
        path = root / relative
        if path.exists() and path.read_text() == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(relative)
    return written


def check_files(root: Path, files: dict[str, str]) -> list[str]:
    """The rendered paths whose committed copy is missing or differs."""
    return [
        relative
        for relative, text in files.items()
        if not (root / relative).exists() or (root / relative).read_text() != text
    ]
