"""Event throughput through the real broker, and end-to-end latency from 202 to the legacy
sync's commit. A benchmark, not a test: it prints figures and ratios (127.0.0.1 only,
bounded in count and time, on a throw-away vhost that is deleted afterwards).

    .venv/bin/python benchmarks/event_throughput.py [--events 2000] [--requests 200]

1. baseline: plain pika, persistent, one confirm per message (BlockingChannel);
2. ingestion's publishing path: ``AsyncPublisher.publish_many`` (pipelined confirms) with
   single-transaction events and with 100-transaction batch events, and the whole outbox
   relay (SQLite outbox -> confirmed publish -> delete);
3. end to end: ``python -m extracted_services.ingestion`` and ``python -m
   legacy_monolith.sync`` for real, HTTP batches in, until the monolith's database holds
   every transaction; latency = monolith ``ingested_at`` (taken in the sync's commit
   transaction) minus the client's 202 time, per transaction;
4. the consumers (``--consumers-only`` runs just these): monitoring's ``prediction_logged``
   and training's ``transactions_ingested`` consumers, each the real nameko service in a
   process of its own (one process = one core), on a fresh vhost and SQLite file per
   measurement; the queue is pre-filled, then the process starts and drains it; wall time
   and the process's CPU time run from its first consumed message until every event is
   stored (start-up excluded).

    .venv/bin/python benchmarks/event_throughput.py --consumers-only [--consumer-events N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402
import pika  # noqa: E402
import uvloop  # noqa: E402
from sqlalchemy import MetaData, create_engine, text  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from contracts.events import TransactionsIngested  # noqa: E402
from contracts.events.envelope import new_traceparent  # noqa: E402
from contracts.events.models import LoggedDecision, PredictionLogged  # noqa: E402
from contracts.features import transform_many  # noqa: E402
from contracts.predictions import PredictionRecord  # noqa: E402
from contracts.transactions import Transaction  # noqa: E402
from datagen import generate  # noqa: E402
from eventbus import (  # noqa: E402
    AsyncPublisher,
    Management,
    Outbox,
    OutboxRelay,
    OutgoingMessage,
    apply_policies,
    build_topology,
    declare_sync,
    encode,
    outbox_table,
)
from eventbus.publisher_sync import publish_on  # noqa: E402
from migration_playbook.runner.process import ManagedProcess, free_port  # noqa: E402
from riskmodel.scoring import top_attributions  # noqa: E402


def tx(i: int | str) -> dict[str, Any]:
    return {
        "transaction_id": f"bench-{i}",
        "account_id": f"acct-{hash(str(i)) % 500}",
        "amount": round(1 + (hash(str(i)) % 100000) / 100, 2),
        "currency": "EUR",
        "merchant_category": "5411",
        "country": "DE",
        "channel": "pos",
        "timestamp": "2026-11-25T10:15:00+01:00",
    }


def events(n: int, per_event: int, tag: str) -> list[OutgoingMessage]:
    out = []
    for e in range(n):
        txs = [
            Transaction.model_validate_json(json.dumps(tx(f"{tag}-{e}-{k}")))
            for k in range(per_event)
        ]
        out.append(encode(TransactionsIngested(ingested_at=datetime.now(UTC), transactions=txs)))
    return out


@contextmanager
def vhost() -> Any:
    name = f"kit-bench-{uuid.uuid4().hex[:8]}"
    uri = f"amqp://guest:guest@127.0.0.1:5672/{name}"
    management = Management.from_amqp_uri(uri)
    management.create_vhost()
    try:
        connection = pika.BlockingConnection(pika.URLParameters(uri))
        declare_sync(connection.channel(), build_topology())
        connection.close()
        apply_policies(management, build_topology(), required=True)
        yield uri
    finally:
        management.delete_vhost()


def purge(uri: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(uri))
    channel = connection.channel()
    for cq in build_topology().consumer_queues:
        channel.queue_purge(cq.name)
    connection.close()


def baseline(uri: str, messages: list[OutgoingMessage]) -> float:
    connection = pika.BlockingConnection(pika.URLParameters(uri))
    channel = connection.channel()
    channel.confirm_delivery()
    started = time.perf_counter()
    for m in messages:
        publish_on(channel, m)
    elapsed = time.perf_counter() - started
    connection.close()
    return len(messages) / elapsed


async def pipelined(uri: str, messages: list[OutgoingMessage], chunk: int = 500) -> float:
    async with AsyncPublisher(uri) as publisher:
        assert await publisher.wait_connected(10)
        started = time.perf_counter()
        for k in range(0, len(messages), chunk):
            results = await publisher.publish_many(messages[k : k + chunk])
            assert all(r is None for r in results)
        return len(messages) / (time.perf_counter() - started)


async def relay_path(uri: str, messages: list[OutgoingMessage], folder: Path) -> float:
    folder.mkdir(parents=True, exist_ok=True)
    metadata = MetaData()
    outbox = Outbox(outbox_table(metadata))
    engine = create_engine(f"sqlite:///{folder / 'outbox.db'}")
    metadata.create_all(engine)
    sessions = sessionmaker(engine)

    @contextmanager
    def transaction() -> Any:
        with sessions() as session, session.begin():
            yield session

    with transaction() as session:
        for m in messages:
            outbox.add(session, m)
    async with AsyncPublisher(uri) as publisher:
        assert await publisher.wait_connected(10)
        relay = OutboxRelay(transaction, outbox, publisher, batch_size=500)
        started = time.perf_counter()
        moved = 0
        while moved < len(messages):
            moved += await relay.relay_once()
        rate = len(messages) / (time.perf_counter() - started)
        await relay.close()
    engine.dispose()
    return rate


async def drive(
    url: str,
    batches: list[list[dict[str, Any]]],
    concurrency: int,
    rate_rps: float | None = None,
) -> dict[str, float]:
    """Send every batch; closed loop (``concurrency`` in flight) or open loop at a fixed
    request rate. aiohttp, not httpx: httpx's async pool collapses under concurrency."""
    limit = asyncio.Semaphore(concurrency)
    accepted_at: dict[str, float] = {}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(url, connector=connector) as session:

        async def send(batch: list[dict[str, Any]]) -> None:
            async with limit:
                body = {"transactions": batch} if len(batch) > 1 else batch[0]
                async with session.post("/api/v1/transactions", json=body) as response:
                    text_ = await response.text()
                    assert response.status == 202, text_
                now = time.time()
                for t in batch:
                    accepted_at[str(t["transaction_id"])] = now

        if rate_rps is None:
            await asyncio.gather(*(send(b) for b in batches))
        else:
            start = time.perf_counter()
            tasks = []
            for index, batch in enumerate(batches):
                delay = start + index / rate_rps - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.ensure_future(send(batch)))
            await asyncio.gather(*tasks)
    return accepted_at


def end_to_end(
    uri: str,
    folder: Path,
    requests: int,
    per_request: int,
    concurrency: int,
    tag: str,
    rate_rps: float | None = None,
) -> dict[str, float]:
    monolith_db = f"sqlite:///{folder / f'monolith-{tag}.db'}"
    env_common = {"AMQP_URI": uri, "INGESTION_LOG_JSON": "false", "MONOLITH_LOG_JSON": "false"}
    ingestion = ManagedProcess(
        "ingestion",
        "extracted_services.ingestion",
        free_port(),
        folder / f"ingestion-{tag}.log",
        env={
            **env_common,
            "DATABASE_URL": f"sqlite:///{folder / f'ingestion-{tag}.db'}",
            "INGESTION_LOG_LEVEL": "WARNING",
        },
    )
    sync = ManagedProcess(
        "legacy-sync",
        "legacy_monolith.sync",
        free_port(),
        folder / f"sync-{tag}.log",
        env={**env_common, "DATABASE_URL": monolith_db, "MONOLITH_LOG_LEVEL": "WARNING"},
    )
    try:
        sync.start()
        sync.wait_ready(60)
        ingestion.start()
        ingestion.wait_ready(60)
        batches = [[tx(f"{tag}-{r}-{k}") for k in range(per_request)] for r in range(requests)]
        total = requests * per_request
        started = time.time()
        accepted_at = uvloop.run(drive(ingestion.url, batches, concurrency, rate_rps))
        accepted_s = time.time() - started
        engine = create_engine(monolith_db)
        deadline = time.time() + 120
        count = 0
        while time.time() < deadline:
            with engine.connect() as connection:
                count = connection.execute(text("SELECT count(*) FROM transactions")).scalar_one()
            if count >= total:
                break
            time.sleep(0.05)
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT transaction_id, ingested_at FROM transactions")
            ).all()
        engine.dispose()
        committed = {
            r[0]: (r[1] if isinstance(r[1], datetime) else datetime.fromisoformat(str(r[1])))
            .replace(tzinfo=UTC)
            .timestamp()
            for r in rows
        }
        last_commit = max(committed.values())
        latencies = sorted(
            max(committed[t] - accepted_at[t], 0.0) * 1000 for t in accepted_at if t in committed
        )
        q = statistics.quantiles(latencies, n=100)
        return {
            "transactions": float(total),
            "delivered": float(len(committed)),
            "accepted_tx_s": total / accepted_s,
            "end_to_end_tx_s": total / (last_commit - started),
            "p50_ms": q[49],
            "p99_ms": q[98],
        }
    finally:
        ingestion.stop()
        sync.stop()


# -- 4. the consumers ------------------------------------------------------------------------
CONSUMER_TARGET = 2000.0  # events/s on one core


def consumer_command(
    kind: str, uri: str, database: str, port: int
) -> tuple[list[str], dict[str, str]]:
    """The consumer process exactly as the kit runs it: ``python -m extracted_services.<kind>``
    configured by its environment (its own SQLite file; training's MLflow on a port nothing
    answers on: consuming never asks it)."""
    env = {
        **os.environ,
        "AMQP_URI": uri,
        "DATABASE_URL": f"sqlite:///{database}",
        "PORT": str(port),
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    if kind == "training":
        env["MLFLOW_TRACKING_URI"] = f"http://127.0.0.1:{free_port()}"
    return [sys.executable, "-m", f"extracted_services.{kind}"], env


def prediction_messages(n: int, per_message: int, seed: int) -> list[OutgoingMessage]:
    """``prediction_logged`` v2 as inference sends them (top attributions, traceparent);
    the generated transactions are reused past 20,000 decisions, prediction ids never."""
    pool = generate(min(n * per_message, 20_000), seed=seed, id_prefix=f"bench{seed}")
    matrix = transform_many(pool)
    features = matrix.tolist()
    now = datetime.now(UTC)
    out = []
    for e in range(n):
        decisions = []
        for k in range(e * per_message, (e + 1) * per_message):
            i = k % len(pool)
            record = PredictionRecord(
                prediction_id=str(uuid.uuid4()),
                transaction_id=pool[i].transaction_id,
                score=(i % 97) / 100,
                decision="approve",
                model_version="7",
                explanation=top_attributions(matrix[i], matrix[i] * 0.1),
                created_at=now,
                transaction=pool[i],
            )
            decisions.append(
                LoggedDecision(
                    prediction=record, features=features[i], traceparent=new_traceparent()
                )
            )
        out.append(encode(PredictionLogged(decisions=decisions, feature_spec_version="1")))
    return out


def ingested_messages(n: int, seed: int) -> list[OutgoingMessage]:
    """``transactions_ingested`` with one generated transaction each."""
    now = datetime.now(UTC)
    return [
        encode(TransactionsIngested(ingested_at=now, transactions=[t]))
        for t in generate(n, seed=seed, id_prefix=f"bench{seed}")
    ]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, every thread (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ready_count(channel: Any, queue: str) -> int:
    return int(channel.queue_declare(queue, passive=True).method.message_count)


def drain_backlog(
    kind: str,
    event_type: str,
    messages: list[OutgoingMessage],
    items: int,
    folder: Path,
    timeout_s: float,
) -> dict[str, float]:
    """Pre-fill the consumer's queue on a fresh vhost, start the consumer process, and
    time it (wall and CPU) from its first delivery until all ``items`` rows are stored."""
    queue = build_topology().consumer_queue(kind, event_type).name
    database = folder / f"{kind}.db"
    # The stored-rows probe: monitoring may prune its log (max(id) survives), training not.
    probe = (
        "SELECT coalesce(max(id), 0) FROM predictions"
        if kind == "monitoring"
        else "SELECT count(*) FROM transactions"
    )
    n = len(messages)
    with vhost() as uri:
        uvloop.run(pipelined(uri, messages))
        connection = pika.BlockingConnection(pika.URLParameters(uri))
        channel = connection.channel()
        assert ready_count(channel, queue) == n, "the queue was not pre-filled"
        log = (folder / f"{kind}.log").open("wb")
        command, env = consumer_command(kind, uri, str(database), free_port())
        child = subprocess.Popen(
            command,
            env=env,
            cwd=Path(__file__).resolve().parents[1],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        print(f"  [{kind}: pid {child.pid}, {n} messages queued]", file=sys.stderr, flush=True)
        try:
            launched = time.perf_counter()
            deadline = launched + 120
            while ready_count(channel, queue) == n:
                assert child.poll() is None and time.perf_counter() < deadline, "never consumed"
                time.sleep(0.005)
            started, cpu_started = time.perf_counter(), cpu_seconds(child.pid)
            connection.close()
            db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
            deadline = started + timeout_s
            stored = 0
            while stored < items and time.perf_counter() < deadline and child.poll() is None:
                time.sleep(0.02)
                stored = int(db.execute(probe).fetchone()[0])
            finished, cpu_finished = time.perf_counter(), cpu_seconds(child.pid)
            db.close()
        finally:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            log.close()
        connection = pika.BlockingConnection(pika.URLParameters(uri))
        left = ready_count(connection.channel(), queue)  # unacked ones are back by now
        connection.close()
    if stored < items:
        tail = (folder / f"{kind}.log").read_text(errors="replace")[-2000:]
        print(f"  [{kind}: only {stored} of {items} stored; log tail:]\n{tail}", file=sys.stderr)
    wall = finished - started
    done = n * stored / items
    return {
        "events_s": done / wall,
        "items_s": stored / wall,
        "cpu_us_event": (cpu_finished - cpu_started) / done * 1e6,
        "cpu_share": (cpu_finished - cpu_started) / wall,
        "startup_s": started - launched,
        "complete": float(stored >= items),
        "left": float(left),
    }


def consumers(args: argparse.Namespace) -> None:
    n = max(1, min(args.consumer_events, 50_000))
    cases = [
        ("monitoring", "prediction_logged", 1, "decision"),
        ("monitoring", "prediction_logged", 8, "decision"),
        ("training", "transactions_ingested", 1, "transaction"),
    ]
    results = []
    with tempfile.TemporaryDirectory(prefix="kit-bench-consumers-") as tmp:
        for index, (kind, event_type, per, _) in enumerate(cases):
            if kind == "monitoring":
                messages = prediction_messages(n, per, seed=100 + index)
            else:
                messages = ingested_messages(n, seed=100 + index)
            folder = Path(tmp) / f"{index}"
            folder.mkdir()
            results.append(
                drain_backlog(kind, event_type, messages, n * per, folder, args.consumer_timeout)
            )
    print(
        f"\nconsumers: the real nameko service in its own process, {n} messages pre-filled, "
        "timed from the first delivery until all are stored (SQLite)"
    )
    print(
        f"{'consumer':58} {'events/s':>10} {'items/s':>10} {'CPU us/ev':>10} "
        f"{'CPU share':>10} {'start s':>8}"
    )
    labels = []
    for (kind, event_type, per, item), r in zip(cases, results, strict=True):
        label = f"{kind} <- {event_type}, {per} {item}{'s' if per > 1 else ''} per event"
        labels.append(label)
        flag = "" if r["complete"] and not r["left"] else f"  INCOMPLETE ({r['left']:.0f} left)"
        print(
            f"{label:58} {r['events_s']:10.0f} {r['items_s']:10.0f} {r['cpu_us_event']:10.0f} "
            f"{r['cpu_share']:10.0%} {r['startup_s']:8.1f}{flag}"
        )
    print("\ntargets:")
    print(
        "  each consumer must take at least 2,000 events/s on one core (a prediction_logged "
        "v2 carrying N decisions counts as the N events v1 sent for them):"
    )
    for label, r in zip(labels, results, strict=True):
        met = r["items_s"] >= CONSUMER_TARGET and r["complete"]
        print(
            f"    {label}: {r['items_s']:.0f} events/s in {r['events_s']:.0f} messages/s "
            f"(CPU-bound ceiling {1e6 / r['cpu_us_event']:.0f} messages/s) -> "
            f"{'MET' if met else 'NOT MET'}"
        )


def publishing_and_end_to_end(args: argparse.Namespace) -> None:
    n = min(args.events, 20_000)
    with vhost() as uri, tempfile.TemporaryDirectory(prefix="kit-bench-") as tmp:
        folder = Path(tmp)
        # Three interleaved repetitions, medians reported: the machine is shared and
        # throughput drifts between runs (the machine's virtual cores change speed).
        runs: dict[str, list[float]] = {"base": [], "pipe": [], "relay": [], "batch": []}
        batch_events = events(max(n // 10, 50), 100, "b")
        for rep in range(args.repeats):
            runs["base"].append(baseline(uri, events(n, 1, f"s{rep}")))
            purge(uri)
            runs["pipe"].append(uvloop.run(pipelined(uri, events(n, 1, f"p{rep}"))))
            purge(uri)
            runs["relay"].append(
                uvloop.run(relay_path(uri, events(n, 1, f"r{rep}"), folder / f"r{rep}"))
            )
            purge(uri)
            runs["batch"].append(uvloop.run(pipelined(uri, batch_events, chunk=50)))
            purge(uri)
        base, pipe, relay, pipe_batch = (
            statistics.median(runs[k]) for k in ("base", "pipe", "relay", "batch")
        )
        e2e = end_to_end(
            uri, folder, min(args.requests, 2000), args.per_request, args.concurrency, "batch"
        )
        purge(uri)
        e2e_single = end_to_end(uri, folder, min(args.requests * 5, 2000), 1, 16, "single")
        purge(uri)
        # Latency without a backlog: an open-loop run at a fixed, sustainable rate.
        paced = end_to_end(uri, folder, 200, args.per_request, 32, "paced", rate_rps=args.paced_rps)

    print(
        f"\nbroker publishing, persistent, confirmed ({n} single-transaction events; "
        f"median of {args.repeats} interleaved runs)"
    )
    print(f"{'path':58} {'events/s':>10} {'tx/s':>10} {'x baseline':>10}")
    rows = [
        ("pika, one confirm per message (baseline)", base, base),
        ("AsyncPublisher.publish_many, pipelined confirms", pipe, pipe),
        ("outbox relay (SQLite read + confirmed publish + delete)", relay, relay),
        ("AsyncPublisher, 100-transaction batch events", pipe_batch, pipe_batch * 100),
    ]
    for label, ev, txs in rows:
        print(f"{label:58} {ev:10.0f} {txs:10.0f} {ev / base:10.1f}")
    print("  runs (events/s):", {k: [round(v) for v in vs] for k, vs in runs.items()})
    for label, r in (
        (f"HTTP batches of {args.per_request}, concurrency {args.concurrency}", e2e),
        ("HTTP single transactions, concurrency 16", e2e_single),
        (f"HTTP batches of {args.per_request} at a fixed {args.paced_rps:.0f} requests/s", paced),
    ):
        print(f"\nend to end: {label}")
        print(
            f"  {r['transactions']:.0f} transactions, {r['delivered']:.0f} in the monolith; "
            f"accepted {r['accepted_tx_s']:.0f} tx/s; 202 -> legacy commit "
            f"{r['end_to_end_tx_s']:.0f} tx/s; latency p50 {r['p50_ms']:.1f} ms, "
            f"p99 {r['p99_ms']:.1f} ms"
        )
    print("\ntargets:")
    best = max(e2e["end_to_end_tx_s"], e2e_single["end_to_end_tx_s"])
    print(
        f"  >= 2,000 tx/s accepted and delivered end to end: {best:.0f} -> "
        f"{'MET' if best >= 2000 else 'NOT MET'}"
    )
    print(
        f"  >= 3x the one-confirm baseline (single events, pipelined): {pipe / base:.1f}x -> "
        f"{'MET' if pipe / base >= 3 else 'NOT MET'}"
    )
    print(
        f"  same, through the whole outbox relay: {relay / base:.1f}x -> "
        f"{'MET' if relay / base >= 3 else 'NOT MET'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--per-request", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--paced-rps", type=float, default=20.0, help="requests/s of the fixed-rate run"
    )
    parser.add_argument(
        "--consumers-only", action="store_true", help="measure only the event consumers"
    )
    parser.add_argument(
        "--consumer-events",
        type=int,
        default=20_000,
        help="messages pre-filled per consumer measurement (at most 50,000)",
    )
    parser.add_argument(
        "--consumer-timeout", type=float, default=300.0, help="seconds a drain may take"
    )
    args = parser.parse_args()
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")
    if not args.consumers_only:
        publishing_and_end_to_end(args)
    consumers(args)


if __name__ == "__main__":
    main()
