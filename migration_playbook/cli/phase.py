"""``kit phase lint|verify|apply|status``: the migration, one verified phase at a time."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from migration_playbook.context import KitContext
from migration_playbook.gates.result import Outcome
from migration_playbook.orchestration.actions import ACTIONS, actions_for
from migration_playbook.orchestration.engine import Engine
from migration_playbook.orchestration.ledger import Ledger
from migration_playbook.orchestration.reports import PhaseReport
from migration_playbook.phases.loader import (
    PhaseError,
    find_phase,
    lint_phase,
    load_phase,
    phase_files,
    phases_dir,
)
from migration_playbook.phases.models import Phase
from migration_playbook.runner.process import ProcessFailed
from migration_playbook.settings import KitSettings
from migration_playbook.topology import HookError, TopologyError, lint_topology

app = typer.Typer(help="Lint, verify and apply the migration's phases.", no_args_is_help=True)
console = Console(highlight=False, emoji=False)
err = Console(stderr=True, highlight=False, emoji=False)

_COLOURS = {"pass": "green", "fail": "red", "insufficient-data": "yellow"}


def _event(kind: str, message: str) -> None:
    if kind == "gate":
        outcome = message.strip().split()[0]
        colour = _COLOURS.get(outcome, "white")
        console.print(f"    [{colour}]{message}[/{colour}]")
    elif kind == "rollback":
        console.print(f"  [bold red]{message}[/bold red]")
    elif kind == "gate-start":
        return
    else:
        console.print(f"  {message}")


def _summary(report: PhaseReport) -> None:
    colour = _COLOURS[report.outcome.value]
    console.print(
        f"[bold {colour}]phase {report.phase} {report.command}: {report.outcome.value}[/]"
        + (f" - {report.reason}" if report.reason else "")
    )


@app.command("lint")
def lint_command() -> None:
    """Validate the topology and every phase file: schema, processes, stores, route tables,
    steps, gates (``KIT_TOPOLOGY`` and ``KIT_PHASES_DIR`` choose which)."""
    settings = KitSettings()
    problems = 0
    try:
        topology = settings.topology()
    except TopologyError as exc:
        for issue in exc.issues:
            err.print(f"[red]error[/red] {issue}")
        err.print(f"{len(exc.issues)} problem(s)")
        raise typer.Exit(1) from None
    issues = lint_topology(topology, settings.topology_file.name)
    for issue in issues:
        err.print(f"[red]error[/red] {issue}")
    problems += len(issues)
    if not issues:
        console.print(
            f"[green]ok[/green] {settings.topology_file.name}: topology {topology.name}, "
            f"{len(topology.processes)} processes, {len(topology.stores)} stores"
        )
    folder = phases_dir(topology, settings.phases_dir)
    files = phase_files(folder)
    if not files:
        err.print(f"[red]error[/red] no phase files (phase-N-*.yaml) in {folder}")
        problems += 1
    try:
        actions = actions_for(topology)
    except HookError:  # reported above with the topology's problems
        actions = dict(ACTIONS)
    for path in files:
        try:
            phase = load_phase(path)
        except PhaseError as exc:
            for issue in exc.issues:
                err.print(f"[red]error[/red] {issue}")
            problems += len(exc.issues)
            continue
        issues = lint_phase(phase, path.name, topology, actions)
        for issue in issues:
            err.print(f"[red]error[/red] {issue}")
        problems += len(issues)
        if not issues:
            console.print(f"[green]ok[/green] {path.name}: {phase.title}")
    if problems:
        err.print(f"{problems} problem(s)")
        raise typer.Exit(1)


def _context() -> KitContext:
    try:
        return KitContext.create()
    except TopologyError as exc:
        for issue in exc.issues:
            err.print(f"[red]error[/red] {issue}")
        raise typer.Exit(1) from None


def _load(number: int) -> tuple[KitContext, Phase]:
    ctx = _context()
    try:
        phase = find_phase(number, ctx.phases_dir)
    except PhaseError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    return ctx, phase


@app.command("verify")
def verify_command(
    number: Annotated[int, typer.Argument(help="Phase number.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Run the phase's gates against the live system; write reports/phase-N.json."""
    ctx, phase = _load(number)
    report = Engine(ctx).verify(phase, _event if not as_json else lambda _k, _m: None)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        _summary(report)
    raise typer.Exit(0 if report.outcome is Outcome.PASS else 1)


@app.command("apply")
def apply_command(
    number: Annotated[int, typer.Argument(help="Phase number.")],
    inject_faulty_candidate: Annotated[
        str | None,
        typer.Option(
            help="Replace the candidate with this process (e.g. 'chaos') to rehearse a rollback."
        ),
    ] = None,
) -> None:
    """Move traffic step by step, checking gates; roll back by itself on a failure."""
    ctx, phase = _load(number)
    console.print(f"[bold]phase {number}: {phase.title}[/bold]")
    try:
        report = Engine(ctx).apply(phase, _event, candidate_override=inject_faulty_candidate)
    except ProcessFailed as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    _summary(report)
    raise typer.Exit(0 if report.outcome is Outcome.PASS else 1)


@app.command("status")
def status_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the ledger's last entries.")
    ] = False,
) -> None:
    """Where the migration stands, from the promotion ledger."""
    settings = KitSettings()
    path = settings.reports / "ledger.jsonl"
    try:
        entries = Ledger(path).read()
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps([e.model_dump(mode="json") for e in entries[-20:]], indent=2))
        return
    if not entries:
        console.print(f"no migration step recorded yet (ledger: {path})")
        return
    table = Table(title=f"promotion ledger ({path})", title_justify="left")
    for column in ("time", "phase", "step", "action", "outcome", "table", "gates"):
        table.add_column(column)
    for entry in entries[-25:]:
        gates = ", ".join(f"{g.gate}={g.outcome.value}" for g in entry.gates)
        colour = _COLOURS.get(entry.outcome.value, "white")
        table.add_row(
            entry.time.strftime("%H:%M:%S"),
            str(entry.phase),
            entry.step,
            entry.action.value,
            f"[{colour}]{entry.outcome.value}[/{colour}]",
            str(entry.table_version or "-"),
            gates[:80],
        )
    console.print(table)
    applied = [e for e in entries if e.action == "apply" and e.outcome is Outcome.PASS]
    if applied:
        console.print(f"last phase applied successfully: {applied[-1].phase}")
