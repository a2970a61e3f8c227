"""``kit up``, ``kit down``, ``kit status``: a phase's processes, where the topology puts them."""

from __future__ import annotations

import signal
import time
from types import FrameType
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from contracts.proxy_admin import AdminError, AdminUnreachable
from migration_playbook.context import KitContext
from migration_playbook.orchestration.engine import Engine
from migration_playbook.phases.loader import PhaseError, find_phase
from migration_playbook.runner.broker import broker_problem
from migration_playbook.runner.process import ProcessFailed
from migration_playbook.topology import Platform, Topology, TopologyError

console = Console(highlight=False, emoji=False)
err = Console(stderr=True, highlight=False, emoji=False)


def _context() -> KitContext:
    try:
        return KitContext.create()
    except TopologyError as exc:
        for issue in exc.issues:
            err.print(f"[red]error[/red] {issue}")
        raise typer.Exit(1) from None


def uses_broker(topology: Topology) -> bool:
    """Whether a process of the topology consumes events or is given the broker's URI (a
    migration without events needs no RabbitMQ)."""
    values = [*topology.env.values()]
    for process in topology.processes.values():
        values += [*process.env.values(), *process.args, *(process.command or ())]
        if process.consumer is not None:
            return True
    return any("{amqp_uri}" in value for value in values)


def up_command(
    phase: Annotated[int, typer.Option("--phase", "-p", help="Phase whose processes to start.")],
    foreground: Annotated[
        bool, typer.Option(help="Stay attached; Ctrl-C stops everything.")
    ] = False,
) -> None:
    """Start exactly the processes phase N needs and wait until each is ready."""
    ctx = _context()
    try:
        plan = find_phase(phase, ctx.phases_dir)
    except PhaseError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    problem = broker_problem(ctx.amqp_uri) if uses_broker(ctx.topology) else None
    if problem:
        err.print(f"[red]{problem}[/red]")
        raise typer.Exit(2)
    engine = Engine(ctx)
    try:
        engine.up(plan, lambda _k, message: console.print(f"  {message}"))
    except ProcessFailed as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(
        f"[green]phase {plan.phase} ({plan.name}) is up[/green]: {', '.join(plan.processes)}"
    )
    _print_status(ctx)
    if foreground:
        console.print("Press Ctrl-C to stop everything.")
        stop = {"now": False}

        def _handler(_signum: int, _frame: FrameType | None) -> None:
            stop["now"] = True

        signal.signal(signal.SIGINT, _handler)
        signal.signal(signal.SIGTERM, _handler)
        while not stop["now"]:
            time.sleep(0.3)
        engine.down()
        console.print("stopped every process")


def down_command() -> None:
    """Stop every process the kit started (and supervisord), leaving nothing behind."""
    ctx = _context()
    if ctx.topology.platform is Platform.EXTERNAL:
        console.print("platform external: the kit started nothing and stops nothing")
        return
    if ctx.runner.shutdown():
        console.print("[green]stopped every process[/green]")
    else:
        console.print("nothing was running")


def _probe(url: str | None, path: str | None) -> tuple[str, str]:
    if url is None or path is None:
        return "-", "-"
    try:
        response = httpx.get(url + path, timeout=2.0)
    except httpx.HTTPError as exc:
        return f"[red]{type(exc).__name__}[/red]", "-"
    version = "-"
    try:
        body = response.json()
        version = str(body.get("model_version") or "-") if isinstance(body, dict) else "-"
    except ValueError:
        pass
    colour = "green" if response.status_code == 200 else "red"
    return f"[{colour}]{response.status_code}[/{colour}]", version


def _print_status(ctx: KitContext) -> None:
    states = {s.name: s for s in ctx.runner.states()}
    table = Table(title="kit status", title_justify="left")
    for column in ("process", "state", "pid", "url", "ready", "model", "log"):
        table.add_column(column, overflow="fold")
    for name, spec in ctx.catalog.items():
        state = states.get(name)
        if state is None:
            continue
        ready, version = (
            _probe(spec.url, spec.ready_path) if state.state == "RUNNING" else ("-", "-")
        )
        table.add_row(
            name,
            state.state,
            str(state.pid or "-"),
            spec.url or "-",
            ready,
            version,
            str(ctx.runner.log_path(name)),
        )
    console.print(table)
    if "proxy" in states and states["proxy"].state == "RUNNING":
        try:
            with ctx.admin() as admin:
                live = admin.current()
            console.print(
                f"route table v{live.version} applied by {live.applied_by} "
                f"at {live.applied_at} ({live.origin})"
            )
        except (AdminError, AdminUnreachable) as exc:  # status prints whatever it can
            console.print(f"[yellow]route table: unavailable ({exc})[/yellow]")


def status_command() -> None:
    """Processes, ports, health, served model version and the route table version."""
    ctx = _context()
    problem = broker_problem(ctx.amqp_uri)
    console.print(
        f"topology: {ctx.topology.name} ({ctx.settings.topology_file}), "
        f"platform {ctx.topology.platform}"
    )
    console.print(
        f"RabbitMQ: {'[red]' + problem + '[/red]' if problem else '[green]reachable[/green]'}"
    )
    if not ctx.runner.running():
        console.print("no kit processes are running (start them with `kit up --phase N`)")
        return
    _print_status(ctx)
