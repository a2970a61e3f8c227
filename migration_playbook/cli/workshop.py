"""``kit workshop list|start|hint|check|reset|solve N``, plus ``env`` and ``traffic`` for the
room. Thin: the exercises live in ``migration_playbook.workshop``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from contracts.proxy_admin import AdminError, AdminUnreachable
from migration_playbook.context import KitContext
from migration_playbook.runner.process import ProcessFailed
from migration_playbook.topology import TopologyError
from migration_playbook.traffic import drive_sync
from migration_playbook.workshop.exercises import EXERCISES, UnknownExercise, find_exercise
from migration_playbook.workshop.model import Exercise

app = typer.Typer(help="The graded workshop: exercises on your running kit.", no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

Number = Annotated[int, typer.Argument(help="The exercise's number (see `kit workshop list`).")]


def _context() -> KitContext:
    try:
        return KitContext.create()
    except TopologyError as exc:
        for issue in exc.issues:
            err.print(f"[red]error[/red] {issue}")
        raise typer.Exit(1) from None


def _exercise(number: int) -> Exercise:
    try:
        return find_exercise(number)
    except UnknownExercise as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def _act(number: int, what: str) -> None:
    exercise = _exercise(number)
    ctx = _context()
    action = {"start": exercise.start, "solve": exercise.solve, "reset": exercise.reset}[what]
    try:
        message = action(ctx)
    except (AdminError, AdminUnreachable, ProcessFailed) as exc:
        err.print(f"[red]{what} failed: {exc}[/red]")
        raise typer.Exit(2) from None
    console.print(message)
    if what != "solve":
        console.print(f"\n[bold]Exercise {exercise.number}: {exercise.title}[/bold]")
        console.print(exercise.goal)
        console.print(
            f"Hints: `kit workshop hint {exercise.number}`; grade: "
            f"`kit workshop check {exercise.number}`."
        )


@app.command("list")
def list_command() -> None:
    """Every exercise: number, who it is for, how long it takes, its title."""
    table = Table("#", "for", "minutes", "title")
    for e in EXERCISES:
        table.add_row(str(e.number), e.audience.value, str(e.minutes), e.title)
    console.print(table)


@app.command()
def start(number: Number) -> None:
    """Put your kit in the exercise's starting state (starts processes as needed)."""
    _act(number, "start")


@app.command()
def reset(number: Number) -> None:
    """Put the exercise's starting state back (your edits to the live system are undone)."""
    _act(number, "reset")


@app.command()
def solve(number: Number) -> None:
    """Apply the reference solution (for the facilitator, and to see one)."""
    _act(number, "solve")


@app.command()
def hint(
    number: Number,
    all_hints: Annotated[
        bool, typer.Option("--all", help="Every hint, the last one gives it away.")
    ] = False,
) -> None:
    """The goal and the first hint (``--all``: every hint, from gentle to the answer)."""
    exercise = _exercise(number)
    console.print(f"[bold]Exercise {exercise.number}: {exercise.title}[/bold]")
    console.print(exercise.goal)
    for index, text in enumerate(exercise.hints if all_hints else exercise.hints[:1], start=1):
        console.print(f"hint {index}: {text}")
    if not all_hints and len(exercise.hints) > 1:
        console.print(f"({len(exercise.hints) - 1} more: `kit workshop hint {number} --all`)")


@app.command()
def check(number: Number) -> None:
    """Grade your running system: what passes, what is still missing (exit 1 if not done)."""
    exercise = _exercise(number)
    verdict = exercise.check(_context())
    for item in verdict.items:
        mark = "[green]  pass[/green]" if item.passed else "[red]  todo[/red]"
        console.print(f"{mark} {item.text}")
    if verdict.passed:
        console.print(f"[green]exercise {number} passed[/green]")
        return
    todo = sum(1 for item in verdict.items if not item.passed)
    console.print(f"[yellow]exercise {number}: {todo} thing(s) still missing[/yellow]")
    raise typer.Exit(1)


@app.command()
def env() -> None:
    """Shell lines that set $PROXY and $KIT_ADMIN_TOKEN: `eval "$(kit workshop env)"`."""
    ctx = _context()
    typer.echo(f"export PROXY={ctx.url('proxy')}")
    typer.echo(f"export KIT_ADMIN_TOKEN={ctx.token}")


@app.command()
def traffic(
    seconds: Annotated[float, typer.Option(min=1, help="How long to send.")] = 60.0,
    rate: Annotated[float, typer.Option(min=1, help="Requests a second.")] = 20.0,
) -> None:
    """Keep clients sending through the proxy (predictions and transactions), then count
    what failed for them."""
    ctx = _context()
    console.print(f"sending {rate:g} requests/s to {ctx.url('proxy')} for {seconds:g} s ...")
    report = drive_sync(
        ctx.url("proxy"),
        rate_per_s=rate,
        duration_s=seconds,
        token=ctx.token,
        id_prefix="workshop-traffic",
    )
    outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(report.by_outcome.items()))
    console.print(f"{report.sent} sent, {report.ok} ok, {report.failed} failed ({outcomes})")
    for line in report.errors[:5]:
        console.print(f"  [red]{line}[/red]")
    if report.failed:
        raise typer.Exit(1)
