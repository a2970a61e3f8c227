"""``kit doctor``: one line per check of this machine, OK or FAIL with how to fix it."""

from __future__ import annotations

import typer
from rich.console import Console

from migration_playbook.doctor import run_checks
from migration_playbook.settings import KitSettings
from migration_playbook.topology import TopologyError

console = Console(highlight=False, soft_wrap=True)


def doctor_command() -> None:
    """Check Python, the venv, RabbitMQ, PostgreSQL, chromium, k6, the kit's ports and disk.

    Run it before a workshop (and before ``kit up``): exit code 1 when a check fails.
    """
    settings = KitSettings()
    try:
        topology = settings.topology()
    except TopologyError as exc:
        for issue in exc.issues:
            console.print(f"[red]FAIL[/red] topology  {issue}")
        raise typer.Exit(1) from None
    findings = run_checks(topology, settings.broker_uri(topology), settings.workdir)
    for finding in findings:
        if finding.ok:
            console.print(f"[green]OK  [/green] {finding.check:<20} {finding.detail}")
        else:
            console.print(f"[red]FAIL[/red] {finding.check:<20} {finding.detail}")
            console.print(f"     {'':<20} fix: {finding.fix}")
    failed = [f for f in findings if not f.ok]
    if failed:
        console.print(f"{len(failed)} of {len(findings)} checks failed")
        raise typer.Exit(1)
    console.print(f"all {len(findings)} checks passed: this machine is ready")
