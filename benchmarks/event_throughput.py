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
   transaction) minus the client's 202 time, per transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
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
from contracts.messaging import (  # noqa: E402
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
from contracts.messaging.publisher_sync import publish_on  # noqa: E402
from contracts.transactions import Transaction  # noqa: E402
from migration_playbook.runner.process import ManagedProcess, free_port  # noqa: E402


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
    args = parser.parse_args()
    n = min(args.events, 20_000)
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")
    with vhost() as uri, tempfile.TemporaryDirectory(prefix="kit-bench-") as tmp:
        folder = Path(tmp)
        # Three interleaved repetitions, medians reported: the machine is shared and
        # throughput drifts between runs (STACK.md).
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


if __name__ == "__main__":
    main()
