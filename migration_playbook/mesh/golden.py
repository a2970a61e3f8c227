"""Every phase's route tables, exported for both platforms and committed under ``golden/``.

For each phase, the table it starts from and the table after each traffic step (the
patches accumulate, as ``kit phase apply`` applies them), with each process's upstream URL
as its in-cluster Service ``http://PROCESS:PORT`` (the port from the bundled topology).
The committed files are what a cluster applies step by step; a test fails when they drift
from what the export produces (regenerate with ``kit routes export-phases``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from migration_playbook.mesh.gateway_api import export_gateway_api
from migration_playbook.mesh.istio import export_istio
from migration_playbook.mesh.model import ExportOptions, MeshExport
from migration_playbook.mesh.render import render
from migration_playbook.phases.loader import (
    PHASES_DIR,
    load_phase,
    phase_files,
    render_table,
    table_text,
)
from migration_playbook.phases.models import Phase, RoutePatch
from migration_playbook.topology import Topology, load_topology
from strangler_proxy.route_table import RouteTable
from strangler_proxy.route_table.loader import parse_table

GOLDEN_DIR = Path(__file__).parent / "golden"
EXPORTERS: dict[str, Callable[[RouteTable, ExportOptions], MeshExport]] = {
    "istio": export_istio,
    "gateway-api": export_gateway_api,
}


def cluster_urls(topology: Topology) -> dict[str, str]:
    """Each process with a URL as its Service: ``http://NAME:PORT``."""
    return {
        name: f"http://{name}:{process.port}"
        for name, process in topology.processes.items()
        if process.url is not None
    }


def phase_tables(phase: Phase, topology: Topology) -> list[tuple[str, RouteTable]]:
    """(step name, table) for the start and after each step, in order."""
    urls = cluster_urls(topology)
    out = [("start", parse_table(table_text(render_table(phase, urls)), f"phase {phase.phase}"))]
    patches: tuple[RoutePatch, ...] = ()
    for step in phase.steps:
        patches = (*patches, *step.set)
        text = table_text(render_table(phase, urls, patches))
        out.append((step.name, parse_table(text, f"phase {phase.phase} step {step.name}")))
    return out


def generated_files(
    phases_dir: Path = PHASES_DIR, topology: Topology | None = None
) -> dict[Path, str]:
    """Golden path -> content for every phase, step and platform."""
    topology = topology or load_topology()
    files: dict[Path, str] = {}
    for path in phase_files(phases_dir):
        phase = load_phase(path)
        folder = GOLDEN_DIR / f"phase-{phase.phase}"
        for index, (step, table) in enumerate(phase_tables(phase, topology)):
            for platform, export in EXPORTERS.items():
                name = f"{index:02d}-{step}.{platform}.yaml"
                files[folder / name] = render(export(table, ExportOptions()))
    return files


def stale_files(expected: dict[Path, str] | None = None) -> list[Path]:
    """Committed files that differ from (or are missing for) what the export produces."""
    expected = generated_files() if expected is None else expected
    return [p for p, text in expected.items() if not p.is_file() or p.read_text() != text]


def orphan_files(expected: dict[Path, str] | None = None) -> list[Path]:
    """Committed files the export no longer produces (a renamed step or phase)."""
    expected = generated_files() if expected is None else expected
    return sorted(set(GOLDEN_DIR.glob("phase-*/*.yaml")) - set(expected))


def write_files(expected: dict[Path, str] | None = None) -> list[Path]:
    """Write what is stale, remove orphans; returns the paths changed."""
    expected = generated_files() if expected is None else expected
    changed = stale_files(expected)
    for path in changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(expected[path])
    for path in orphan_files(expected):
        path.unlink()
        changed.append(path)
    return changed
