"""Exercise 4: find the dead-lettered events and replay them until the reconciliation passes.

``start`` brings phase 2 up with ingestion cut over to the ingestion service, then plants
the fault for real: with the legacy sync stopped, a few transactions are ingested through
the proxy, and their ``transactions_ingested`` events are parked in the legacy sync's
dead-letter queue the way a consumer parks a message that failed its last retry (the
failure headers of ``eventbus.retry.on_failure``). The monolith's database misses those
transactions. The grader is phase 2's own reconciliation gate (counts, checksums, missing
ids, empty dead-letter queues).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pika

from contracts.client import ApiClient
from datagen import TransactionGenerator
from eventbus import ConsumerQueue, RetryPolicy, build_topology, on_failure, replay
from eventbus.publisher_sync import connection_parameters, publish_on
from eventbus.wire import redirected
from migration_playbook.context import KitContext
from migration_playbook.gates.reconciliation import ingestion_gate
from migration_playbook.phases.models import ReconciliationGate, RoutePatch
from migration_playbook.workshop import live
from migration_playbook.workshop.model import Audience, Exercise, Verdict

NUMBER = 4
PLANTED = 5
CONSUMER = "legacy-sync"
FAILURE = "OperationalError: database is locked (the monolith's database, during a backup)"


def _queue() -> ConsumerQueue:
    return build_topology().consumer_queue("legacy_sync", "transactions_ingested")


def _wait_for_messages(ctx: KitContext, queue: str, count: int, timeout_s: float = 30.0) -> None:
    """Until ``queue`` holds ``count`` messages (the outbox relay publishes them shortly)."""
    connection = pika.BlockingConnection(connection_parameters(ctx.amqp_uri, "workshop-4"))
    try:
        channel = connection.channel()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if channel.queue_declare(queue, passive=True).method.message_count >= count:
                return
            time.sleep(0.3)
    finally:
        connection.close()
    raise RuntimeError(f"the events of the planted transactions did not reach {queue}")


def _park_all(ctx: KitContext, cq: ConsumerQueue) -> list[str]:
    """Move every message of the consumer's queue to its DLQ, as a last failed retry does."""
    parked = []
    connection = pika.BlockingConnection(connection_parameters(ctx.amqp_uri, "workshop-4"))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        while True:
            method, props, body = channel.basic_get(cq.name, auto_ack=False)
            if method is None:
                break
            action = on_failure(
                cq, props.headers, RuntimeError(FAILURE), RetryPolicy(max_retries=0)
            )
            message = redirected(
                body=body,
                exchange=action.exchange,
                routing_key=action.routing_key,
                headers=action.headers,
                message_id=props.message_id,
                timestamp=datetime.fromtimestamp(props.timestamp, UTC) if props.timestamp else None,
                app_id=props.app_id,
                content_type=props.content_type,
                content_encoding=props.content_encoding,
            )
            publish_on(channel, message)
            channel.basic_ack(method.delivery_tag)
            parked.append(message.message_id)
    finally:
        connection.close()
    return parked


def start(ctx: KitContext) -> str:
    up = live.phase_up(ctx, 2)
    cut_over = RoutePatch(route="transactions", mode="passthrough", primary="ingestion")
    live.apply_table(ctx, live.phase_table(ctx, 2, [cut_over]))
    cq = _queue()
    ctx.runner.stop([CONSUMER])
    transactions = TransactionGenerator(
        seed=int(time.time()), id_prefix=f"workshop-4-{int(time.time())}"
    ).generate(PLANTED)
    with ApiClient(ctx.url("proxy"), headers=ctx.auth_headers) as client:
        for tx in transactions:
            client.ingest(tx)
    _wait_for_messages(ctx, cq.name, PLANTED)
    parked = _park_all(ctx, cq)
    live.phase_up(ctx, 2)  # the legacy sync runs again; the parked events stay parked
    return (
        f"{up}\ningestion is cut over to the ingestion service; {len(parked)} events "
        f"failed their last retry in the legacy sync while the monolith's database was "
        "locked, and the monolith misses those transactions."
    )


def check(ctx: KitContext) -> Verdict:
    verdict = Verdict()
    gate = ingestion_gate(
        ReconciliationGate(kind="reconciliation", check="ingestion", settle_s=15),
        ctx.store_url("ingestion"),
        ctx.store_url("monolith"),
        ctx.amqp_uri,
    )
    texts = {
        "ingested_rows": ("the ingestion service holds {v:g} transactions", "it holds none"),
        "missing_in_monolith": (
            "every one of them is in the monolith's database",
            "{v:g} transactions the ingestion service accepted are missing in the monolith",
        ),
        "amount_mismatches": (
            "their amounts agree in both stores",
            "{v:g} transactions have different amounts in the two stores",
        ),
        "parked_in_dead_letter_queues": (
            "no event is parked in a dead-letter queue",
            "{v:g} event(s) are parked in dead-letter queues (`kit events dlq list`)",
        ),
    }
    for m in gate.measurements:
        passed, missing = texts.get(m.name, (f"{m.name} {{v}}", f"{m.name} {{v}}"))
        value = float(m.value) if isinstance(m.value, int | float) else 0.0
        verdict.expect(bool(m.ok), passed.format(v=value), missing.format(v=value))
    verdict.expect(
        gate.passed,
        "phase 2's reconciliation gate passes",
        f"phase 2's reconciliation gate: {gate.outcome.value} ({gate.summary})",
    )
    return verdict


def solve(ctx: KitContext) -> str:
    done = replay(ctx.amqp_uri, _queue().name)
    return f"replayed {len(done)} parked event(s) to the legacy sync"


EXERCISE = Exercise(
    number=NUMBER,
    slug="dead-letter-replay",
    title="Replay the dead-lettered events until the stores reconcile",
    audience=Audience.OPERATOR,
    minutes=20,
    goal=(
        "Ingestion has moved to the ingestion service; the legacy sync keeps the monolith's "
        "database complete from its events. A few events failed while the monolith's "
        "database was locked and were parked. Find them, see why they failed, and replay "
        "them until phase 2's reconciliation gate passes."
    ),
    hints=(
        "`kit events dlq list` shows every dead-letter queue and why each message failed.",
        "Replay sends a parked message back to its consumer, body unchanged; the legacy "
        "sync is idempotent on the event id, so a replay never writes a row twice.",
        "`kit events dlq replay --queue legacy_sync:transactions_ingested`, then "
        "`kit workshop check 4` (or `kit phase verify 2`).",
    ),
    start=start,
    check=check,
    solve=solve,
    reset=start,
)
