"""``kit report``: write the self-contained HTML migration report from ``reports/``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from migration_playbook.report import build_report
from migration_playbook.settings import KitSettings

console = Console(highlight=False, emoji=False)
err = Console(stderr=True, highlight=False, emoji=False)


def report_command(
    reports: Annotated[
        Path | None,
        typer.Option("--reports", help="Folder with phase-N.json and ledger.jsonl."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="HTML file to write (default REPORTS/migration-report.html)."),
    ] = None,
) -> None:
    """Write one HTML page (no network needed to open it) showing what the migration did."""
    folder = reports if reports is not None else KitSettings().reports
    if not folder.is_dir():
        err.print(f"[red]{folder} does not exist: run `kit phase verify 0` first[/red]")
        raise typer.Exit(1)
    path = build_report(folder, out)
    console.print(f"[green]report written[/green]: {path}")
