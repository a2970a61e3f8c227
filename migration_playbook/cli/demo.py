"""``kit demo``: the end-to-end demo that ``make demo`` runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from migration_playbook.demo import DemoOptions, run_demo
from migration_playbook.runner.process import ProcessFailed


def demo(
    workdir: Annotated[Path, typer.Option(help="Folder for the demo's databases and logs.")] = Path(
        "var/demo"
    ),
    port: Annotated[int, typer.Option(help="Monolith port (a free one if taken).")] = 5000,
    history: Annotated[int, typer.Option(min=500, help="Transactions to ingest first.")] = 6000,
) -> None:
    """Run the demo: monolith up, ingest, train, score with reasons, drift, stop."""
    try:
        run_demo(DemoOptions(workdir=workdir, port=port, history=history))
    except ProcessFailed as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
