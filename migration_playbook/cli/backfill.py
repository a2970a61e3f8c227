"""``kit data backfill-audit``: copy the monolith's prediction audit into the service's DB."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from migration_playbook.datamoves.backfill import BackfillError
from migration_playbook.datamoves.backfill import backfill_audit as run_backfill


def backfill_audit(
    monolith_db: Annotated[
        str, typer.Option(envvar="MONOLITH_DATABASE_URL", help="The monolith's DATABASE_URL.")
    ] = "sqlite:///var/monolith/monolith.db",
    inference_db: Annotated[
        str,
        typer.Option(envvar="INFERENCE_DATABASE_URL", help="The inference service's DATABASE_URL."),
    ] = "sqlite:///var/inference/inference.db",
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Rows per batch.")] = 500,
    max_batches: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many batches (resume later).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Copy audit records idempotently and resumably, then print the reconciliation."""
    console = Console(stderr=as_json)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console) as bar:
        task = bar.add_task("copying audit records", total=None)
        totals = {"read": 0, "new": 0}

        def on_batch(read: int, inserted: int) -> None:
            totals["read"] += read
            totals["new"] += inserted
            bar.update(task, description=f"read {totals['read']}, copied {totals['new']}")

        try:
            report = run_backfill(
                monolith_db,
                inference_db,
                batch_size=batch_size,
                max_batches=max_batches,
                on_batch=on_batch,
            )
        except BackfillError as exc:
            bar.stop()
            Console(stderr=True).print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        console.print(
            f"copied {report.copied}, already present {report.skipped}, "
            f"{report.batches} batches"
            + (f", resumed after {report.resumed_from}" if report.resumed_from else "")
        )
        if report.monolith is not None and report.service is not None:
            table = Table(title="prediction audit: monolith vs inference")
            for column in ("store", "records", "sha256(ids)", "sha256(answers)"):
                table.add_column(column)
            for name, digest in (("monolith", report.monolith), ("inference", report.service)):
                table.add_row(
                    name, str(digest.count), digest.ids_sha256[:16], digest.answers_sha256[:16]
                )
            console.print(table)
            if report.missing_count:
                console.print(f"missing in inference: {report.missing_count}")
        if not report.complete:
            console.print("[yellow]stopped early: run again to resume[/yellow]")
        else:
            console.print(
                "[green]reconciled[/green]" if report.reconciled else "[red]DIFFERENT[/red]"
            )
    if report.complete and not report.reconciled:
        raise typer.Exit(1)
