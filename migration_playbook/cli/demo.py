"""``kit demo``: the end-to-end demo that ``make demo`` runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from migration_playbook.runner.process import ProcessFailed
from migration_playbook.settings import KitSettings
from migration_playbook.tools.migration_demo import run_migration_demo
from migration_playbook.tools.monolith_tour import DemoOptions, run_demo


def demo(
    monolith_only: Annotated[
        bool,
        typer.Option(
            "--monolith-only",
            help="Only the monolith at work (ingest, train, score with reasons, drift): ~10 s.",
        ),
    ] = False,
    workdir: Annotated[
        Path | None, typer.Option(help="Folder for databases and logs (default var/kit).")
    ] = None,
    postgres: Annotated[
        bool,
        typer.Option(
            "--postgres",
            help="Every service store in a fresh database of the kit's PostgreSQL "
            "(make services creates its role) instead of SQLite files.",
        ),
    ] = False,
) -> None:
    """The whole migration, phase by phase, with a rehearsed rollback and the HTML report."""
    try:
        if monolith_only:
            run_demo(DemoOptions(workdir=workdir or Path("var/demo")))
            return
        settings = KitSettings() if workdir is None else KitSettings(workdir=workdir)
        result = run_migration_demo(settings, postgres=postgres)
    except (ProcessFailed, RuntimeError) as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    if not result.completed:
        typer.secho(
            "the migration did not complete; see the report and the ledger",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(1)
