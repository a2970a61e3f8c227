"""``kit events dlq list|replay``: inspect and replay messages parked in dead-letter queues."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Annotated, TypeVar

import pika.exceptions
import typer
from rich.console import Console
from rich.table import Table

from eventbus import DEFAULT_AMQP_URI, depths, list_parked, replay

app = typer.Typer(help="The event backbone: dead-letter queues.")
dlq_app = typer.Typer(help="Messages that failed their retries and wait for an operator.")
app.add_typer(dlq_app, name="dlq")

AmqpOption = Annotated[
    str | None, typer.Option("--amqp-uri", help="Broker URI [env AMQP_URI]", show_default=False)
]
QueueHelp = "A consumer queue (its name, its .dlq name, or consumer:event_type)"


T = TypeVar("T")


def _uri(value: str | None) -> str:
    return value or os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)


def _broker(call: Callable[[], T], uri: str) -> T:
    """Run a broker call; an unreachable broker is a clear message and exit code 2."""
    try:
        return call()
    except pika.exceptions.AMQPConnectionError as exc:
        host = uri.split("@")[-1]
        typer.echo(
            f"RabbitMQ is unreachable at {host} ({type(exc).__name__}). Start it with "
            "`bash scripts/ensure_services.sh` (or `rabbitmq-server -detached`), or point "
            "--amqp-uri / AMQP_URI at your broker.",
            err=True,
        )
        raise typer.Exit(2) from exc


@dlq_app.command("list")
def list_command(
    queue: Annotated[str | None, typer.Option(help=QueueHelp + "; all when omitted")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many messages")] = 100,
    amqp_uri: AmqpOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Parked messages (browsed, not removed), with the reason each one failed."""
    uri = _uri(amqp_uri)
    parked = _broker(lambda: list_parked(uri, queue, limit=limit), uri)
    counts = _broker(lambda: depths(uri), uri)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "queues": [
                        {
                            "queue": d.queue,
                            "dead_letter_queue": d.dead_letter_queue,
                            "parked": d.parked,
                        }
                        for d in counts
                    ],
                    "messages": [p.summary() for p in parked],
                },
                indent=2,
            )
        )
        return
    console = Console()
    totals = Table(title="dead-letter queues")
    totals.add_column("dead-letter queue")
    totals.add_column("parked", justify="right")
    for d in counts:
        totals.add_row(d.dead_letter_queue, str(d.parked))
    console.print(totals)
    if parked:
        table = Table(title="parked messages")
        for column in ("event_id", "event_type", "retries", "failed_at", "reason"):
            table.add_column(column)
        for p in parked:
            table.add_row(p.event_id, p.event_type, str(p.retries), p.failed_at, p.reason)
        console.print(table)


@dlq_app.command("replay")
def replay_command(
    queue: Annotated[str, typer.Option(help=QueueHelp)],
    event_id: Annotated[
        list[str] | None, typer.Option("--event-id", help="Only these events (repeatable)")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many")] = None,
    amqp_uri: AmqpOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Send parked messages back to their consumer queue (confirmed before removal)."""
    uri = _uri(amqp_uri)
    done = _broker(lambda: replay(uri, queue, event_ids=event_id, limit=limit), uri)
    if as_json:
        typer.echo(json.dumps({"replayed": [p.summary() for p in done]}, indent=2))
    else:
        Console().print(f"replayed {len(done)} message(s) from {queue}")
        for p in done:
            Console().print(f"  {p.event_id} ({p.event_type}): was {p.reason}")
    if event_id and len(done) < len(set(event_id)):
        raise typer.Exit(1)
