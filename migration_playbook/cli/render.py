"""``kit render compose``: the phases as Docker Compose files, images and dashboards.

Thin: load the topology and the phases, render (``migration_playbook.render``), write or
check. Exit codes: 0 written or up to date, 1 the committed files drift (``--check``) or
the topology cannot be rendered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from migration_playbook.phases.loader import PhaseError, find_phase, load_phase, phase_files
from migration_playbook.render import RenderError, check_files, render_files, write_files
from migration_playbook.settings import KitSettings
from migration_playbook.topology import TopologyError

app = typer.Typer(help="Render the phases for other platforms.", no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

#: The repository the files are rendered into (compose/ at its root).
REPO = Path(__file__).resolve().parents[2]


@app.command("compose")
def compose_command(
    phase: Annotated[
        int | None, typer.Option("--phase", help="Only this phase (default: every phase).")
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Folder holding compose/ (default: the repository).")
    ] = REPO,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; fail when a file differs.")
    ] = False,
) -> None:
    """Render compose/phase-N.yaml, its route table and scrape config, the images'
    Dockerfiles and requirements, and the Grafana dashboard."""
    try:
        topology = KitSettings().topology()
        phases = (
            [find_phase(phase)]
            if phase is not None
            else [load_phase(path) for path in phase_files()]
        )
        files = render_files(topology, phases)
    except (TopologyError, PhaseError, RenderError, LookupError) as exc:
        issues = getattr(exc, "issues", [str(exc)])
        for issue in issues:
            err.print(f"[red]error[/red] {issue}")
        raise typer.Exit(1) from None
    if check:
        drifted = check_files(out, files)
        for path in drifted:
            err.print(f"[red]differs[/red] {path}")
        if drifted:
            err.print("run `kit render compose` and commit the result")
            raise typer.Exit(1)
        console.print(f"{len(files)} rendered files are up to date")
        return
    written = write_files(out, files)
    for path in written:
        console.print(f"wrote {path}")
    console.print(f"{len(files)} files rendered, {len(written)} changed")
