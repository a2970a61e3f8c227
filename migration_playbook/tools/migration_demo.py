"""The main demo: the whole migration on this machine, from a clean state.

Phase 0 puts the proxy in front of the monolith; phase 1 rehearses a faulty candidate
build (the kit catches it and rolls back by itself), then moves /predictions for real;
every later phase file that exists follows. Then the HTML report is written and every
process is stopped, whatever happened.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from migration_playbook.context import KitContext
from migration_playbook.datamoves.stores import redact
from migration_playbook.gates.result import Outcome
from migration_playbook.orchestration.engine import Engine
from migration_playbook.orchestration.reports import PhaseReport
from migration_playbook.phases.loader import load_phase, phase_files
from migration_playbook.report import build_report
from migration_playbook.runner.broker import broker_problem, fresh_vhost
from migration_playbook.runner.postgres import fresh_databases, kit_postgres_url
from migration_playbook.settings import KitSettings
from migration_playbook.topology import Topology
from migration_playbook.topology.edit import dump_topology, with_changes

DEMO_VHOST = "ai-migration-kit-demo"
_COLOURS = {"pass": "green", "fail": "red", "insufficient-data": "yellow"}


@dataclass
class MigrationDemoResult:
    reports: list[PhaseReport] = field(default_factory=list)
    report_path: Path | None = None
    rehearsal_caught: bool = False

    @property
    def completed(self) -> bool:
        phases = [r for r in self.reports if r.command == "apply"]
        return bool(phases) and phases[-1].outcome is Outcome.PASS and self.rehearsal_caught


def _printer(console: Console) -> Callable[[str, str], None]:
    def on_event(kind: str, message: str) -> None:
        if kind == "gate":
            outcome = message.strip().split()[0]
            colour = _COLOURS.get(outcome, "white")
            console.print(f"    [{colour}]{message.strip()}[/{colour}]")
        elif kind == "rollback":
            console.print(f"  [bold red]{message}[/bold red]")
        elif kind != "gate-start":
            console.print(f"  {message}")

    return on_event


def _on_postgres(settings: KitSettings, topology: Topology, console: Console) -> Topology:
    """The topology with every service store in a fresh database of the kit's PostgreSQL
    (MLflow's registry stays a SQLite file in the workdir)."""
    base = kit_postgres_url()
    if base is None:
        raise RuntimeError(
            "no PostgreSQL for the demo: run `make services` (it creates the kit's role and "
            "writes its URL to the credentials file), or set KIT_POSTGRES_URL"
        )
    stores = [name for name in topology.stores if name != "mlflow"]
    urls = fresh_databases(base, stores, "aikit_demo")
    console.print(
        f"stores on PostgreSQL: {', '.join(f'{n} ({redact(u)})' for n, u in urls.items())}"
    )
    return with_changes(topology, stores=urls)


def run_migration_demo(
    settings: KitSettings,
    console: Console | None = None,
    *,
    fault_phase: int = 1,
    postgres: bool = False,
) -> MigrationDemoResult:
    """Walk every phase file in order; stop at the first phase that does not pass.

    ``postgres``: every service store in a fresh database of the kit's own PostgreSQL
    (``make services`` creates its role) instead of SQLite files.
    """
    console = console or Console()
    topology = settings.topology()
    problem = broker_problem(settings.broker_uri(topology))
    if problem:
        raise RuntimeError(problem)
    for folder in (settings.workdir, settings.reports):
        if folder.exists():
            shutil.rmtree(folder)
    vhost = fresh_vhost(settings.broker_uri(topology), DEMO_VHOST)
    settings = settings.model_copy(update={"amqp_uri": vhost})
    if postgres:
        topology = _on_postgres(settings, topology, console)
        topology_file = dump_topology(topology, settings.workdir / "topology.yaml")
        settings = settings.model_copy(update={"topology_file": topology_file})
    ctx = KitContext.create(settings, topology=topology)
    engine = Engine(ctx)
    on_event = _printer(console)
    result = MigrationDemoResult()
    began = time.monotonic()
    try:
        for path in phase_files():
            phase = load_phase(path)
            if phase.phase == fault_phase:
                console.rule(f"[bold]phase {phase.phase} rehearsal: a faulty candidate build")
                rehearsal = engine.apply(phase, on_event, candidate_override="chaos")
                result.reports.append(rehearsal)
                rolled_back = any(s.rolled_back_to is not None for s in rehearsal.steps)
                result.rehearsal_caught = rehearsal.outcome is Outcome.FAIL and rolled_back
                verdict = "caught and rolled back" if result.rehearsal_caught else "NOT caught"
                console.print(f"[bold]the faulty build was {verdict}[/bold]")
            console.rule(f"[bold]phase {phase.phase}: {phase.title}")
            report = engine.apply(phase, on_event)
            result.reports.append(report)
            colour = _COLOURS[report.outcome.value]
            console.print(
                f"[bold {colour}]phase {phase.phase}: {report.outcome.value}[/]"
                + (f" - {report.reason}" if report.reason else "")
            )
            if report.outcome is not Outcome.PASS:
                break
    finally:
        result.report_path = build_report(settings.reports)
        engine.down()
        console.print("stopped every process the demo started")
    console.print(
        f"report: {result.report_path} ({time.monotonic() - began:.0f}s in all); "
        f"ledger: {ctx.ledger_path}"
    )
    return result
