"""``kit data ...``: data checks between stores (reconciliation)."""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from migration_playbook.datamoves.reconcile import Direction, reconcile_ingestion

app = typer.Typer(help="Compare and audit data between the monolith and the services.")
reconcile_app = typer.Typer(help="Reconcile a service's store with the monolith's.")
app.add_typer(reconcile_app, name="reconcile")

_DEFAULT_INGESTION_DB = "sqlite:///var/ingestion/ingestion.db"
_DEFAULT_MONOLITH_DB = "sqlite:///var/monolith/monolith.db"


@reconcile_app.command("ingestion")
def reconcile_ingestion_command(
    ingestion_db: Annotated[
        str | None,
        typer.Option(help="Ingestion's DATABASE_URL [env INGESTION_DATABASE_URL]"),
    ] = None,
    monolith_db: Annotated[
        str | None,
        typer.Option(help="The monolith's DATABASE_URL [env MONOLITH_DATABASE_URL]"),
    ] = None,
    direction: Annotated[
        str,
        typer.Option(help="both: identical stores; ingestion-in-monolith: nothing lost"),
    ] = "both",
    since: Annotated[
        datetime | None, typer.Option(help="Only rows ingested at or after this time")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Counts, checksums and missing ids; exits 1 on any difference."""
    if direction not in ("both", "ingestion-in-monolith"):
        raise typer.BadParameter("use 'both' or 'ingestion-in-monolith'", param_hint="direction")
    chosen: Direction = "both" if direction == "both" else "ingestion-in-monolith"
    report = reconcile_ingestion(
        ingestion_db or os.environ.get("INGESTION_DATABASE_URL", _DEFAULT_INGESTION_DB),
        monolith_db or os.environ.get("MONOLITH_DATABASE_URL", _DEFAULT_MONOLITH_DB),
        direction=chosen,
        since=since,
    )
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        console = Console()
        table = Table(title=f"ingestion vs monolith ({chosen})")
        for column in ("store", "rows", "checksum (sha256 of id:cents)"):
            table.add_column(column)
        table.add_row("ingestion", str(report.ingestion.count), report.ingestion.checksum[:16])
        table.add_row("monolith", str(report.monolith.count), report.monolith.checksum[:16])
        console.print(table)
        for label, count, sample in (
            ("missing in monolith", report.missing_in_monolith_count, report.missing_in_monolith),
            (
                "missing in ingestion",
                report.missing_in_ingestion_count,
                report.missing_in_ingestion,
            ),
            ("amount mismatches", report.amount_mismatch_count, report.amount_mismatches),
        ):
            if count:
                console.print(f"{label}: {count} (first: {', '.join(sample[:10])})")
        console.print("[green]reconciled[/green]" if report.ok else "[red]DIFFERENT[/red]")
    raise typer.Exit(0 if report.ok else 1)


def _register_backfill() -> None:
    from migration_playbook.cli.backfill import backfill_audit

    app.command("backfill-audit")(backfill_audit)


_register_backfill()
