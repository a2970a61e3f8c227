"""Entry point of the ``kit`` command.

Each command group lives in its own module and is registered here; a group's module
holds only argument parsing and printing, the work is done by library functions.
"""

from __future__ import annotations

import os

import typer

# The kit's tools must stay off the network (there is none; look-ups only cost time).
for _name in (
    "PACT_DO_NOT_TRACK",
    "K6_NO_USAGE_REPORT",
    "MLFLOW_DISABLE_TELEMETRY",
    "DO_NOT_TRACK",
):
    os.environ.setdefault(_name, "true")

app = typer.Typer(
    name="kit",
    help="Move an AI monolith to microservices one verified step at a time.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _root() -> None:
    """Move an AI monolith to microservices one verified step at a time."""


def _register_groups() -> None:
    """Attach every command group (imported here so ``kit --help`` stays one import away)."""
    from migration_playbook.cli import contracts, demo, routes

    app.command("demo")(demo.demo)

    from migration_playbook.cli import model

    app.add_typer(model.app, name="model")
    app.add_typer(routes.app, name="routes")
    app.add_typer(contracts.app, name="contracts")

    from migration_playbook.cli import data, events

    app.add_typer(events.app, name="events")
    app.add_typer(data.app, name="data")

    from migration_playbook.cli import phase, stack

    app.command("up")(stack.up_command)
    app.command("down")(stack.down_command)
    app.command("status")(stack.status_command)
    app.add_typer(phase.app, name="phase")

    from migration_playbook.cli import report

    app.command("report")(report.report_command)

    from migration_playbook.cli import doctor, render, workshop

    app.command("doctor")(doctor.doctor_command)
    app.add_typer(workshop.app, name="workshop")
    app.add_typer(render.app, name="render")


_register_groups()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
