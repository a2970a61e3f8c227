"""Inference service: micro-batching off vs on, torch vs ONNX Runtime, against the ceiling.

A benchmark, not a test: it prints figures and ratios (127.0.0.1 only, every load run
bounded in time). One run sets everything up from scratch in a temp folder:

    .venv/bin/python benchmarks/inference_batching.py [--seconds 4] [--no-broker]

1. a model is trained by the monolith's own trainer, registered by ``kit model
   export-monolith``'s library function into a real ``mlflow server``;
2. the ceiling: the registry model in-process at batch 256, one thread: raw forward
   (``inference_mode``) and the served computation (score + gradient x input) per backend;
3. ``python -m extracted_services.inference`` for each backend with batching off and on;
   closed-loop clients (aiohttp, one single-transaction request at a time each) at
   concurrency 1, 16 and 64, plus 4 clients sending 256-transaction batch requests.
   The full serving path runs: parsing, scoring, audit write, and (unless ``--no-broker``)
   the outbox relay publishing ``prediction_logged`` to a throw-away vhost.

Targets (issue 7): batching on >= 3x batching off in throughput at concurrency 64, with
p99 no worse than 2x the unbatched p99 at concurrency 1; served throughput >= 30 % of the
raw forward ceiling. The load generator shares the machine's 2 cores with the service.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import timeit
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import aiohttp  # noqa: E402
import numpy as np  # noqa: E402

from contracts.features import transform_many  # noqa: E402
from contracts.registry import DataWindow  # noqa: E402
from datagen import generate  # noqa: E402
from migration_playbook.datamoves.model_export import export_monolith_model  # noqa: E402
from migration_playbook.runner.mlflow_server import MlflowServer  # noqa: E402
from migration_playbook.runner.process import ManagedProcess, free_port  # noqa: E402

CONCURRENCY = (1, 16, 64)
BATCH_CLIENTS, BATCH_ROWS = 4, 256


@dataclass
class Run:
    label: str
    requests: int
    rows: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def rows_s(self) -> float:
        return self.rows / self.seconds


def _train_and_register(root: Path, tracking_uri: str) -> None:
    from legacy_monolith import create_app
    from legacy_monolith.settings import Settings
    from riskmodel.trainer import train_model

    database_url = f"sqlite:///{root / 'monolith.db'}"
    app = create_app(
        Settings(database_url=database_url, model_dir=root / "models", log_level="WARNING")
    )
    registry = app.extensions["monolith"].registry
    transactions = generate(6000, seed=11)
    labels = np.array([bool(t.is_fraud) for t in transactions])
    result = train_model(transform_many(transactions), labels, epochs=4, seed=0)
    window = DataWindow(start=datetime(2026, 1, 5, tzinfo=UTC), end=datetime.now(UTC), rows=6000)
    registry.promote(registry.register(result, window, None))
    app.extensions["monolith"].training.stop()
    export_monolith_model(database_url, root / "models", tracking_uri)


def _ceiling(tracking_uri: str, work: Path) -> dict[str, float]:
    """Rows per second at batch 256, one thread, in-process, on the registry's model."""
    import mlflow
    import torch

    from extracted_services.inference.backends import OnnxBackend, export_explained_onnx
    from riskmodel.scoring import explain_rows

    torch.set_num_threads(1)
    mlflow.set_tracking_uri(tracking_uri)
    module = mlflow.pytorch.load_model("models:/risk-scorer@champion")
    features = transform_many(generate(256, seed=5))
    x = torch.from_numpy(features)
    onnx = OnnxBackend(export_explained_onnx(module, work / "ceiling.onnx"))

    def forward() -> None:
        with torch.inference_mode():
            module(x)

    out = {}
    for name, fn in (
        ("torch raw forward", forward),
        ("torch score+explain", lambda: explain_rows(module, features)),
        ("onnx score+explain", lambda: onnx.explain(features)),
    ):
        number = 300
        best = min(timeit.repeat(fn, number=number, repeat=5)) / number
        out[name] = 256 / best
    for name, fn in (
        ("torch score+explain, 1 row", lambda: explain_rows(module, features[:1])),
        ("onnx score+explain, 1 row", lambda: onnx.explain(features[:1])),
    ):
        best = min(timeit.repeat(fn, number=1000, repeat=5)) / 1000
        out[name] = 1 / best
    return out


async def _load(url: str, bodies: list[bytes], concurrency: int, seconds: float, rows: int) -> Run:
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=concurrency + 4)
    headers = {"content-type": "application/json"}
    async with aiohttp.ClientSession(connector=connector) as session:
        warm_until = time.perf_counter() + 0.7
        stop_at = warm_until + seconds

        async def client(offset: int) -> None:
            nonlocal errors
            i = offset
            while True:
                started = time.perf_counter()
                if started >= stop_at:
                    return
                body = bodies[i % len(bodies)]
                i += concurrency
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    ok = response.status == 200
                done = time.perf_counter()
                if started >= warm_until:
                    if ok:
                        latencies.append(done - started)
                    else:
                        errors += 1

        await asyncio.gather(*(client(k) for k in range(concurrency)))
    latencies.sort()
    n = len(latencies)
    p50 = latencies[n // 2] * 1000 if n else float("nan")
    p99 = latencies[min(n - 1, int(n * 0.99))] * 1000 if n else float("nan")
    return Run("", n, n * rows, seconds, p50, p99, errors)


def _service(
    root: Path,
    tracking_uri: str,
    backend: str,
    batching: bool,
    amqp: str | None,
    max_wait_ms: float | None = None,
) -> ManagedProcess:
    name = f"{backend}-{'on' if batching else 'off'}"
    env = {
        "DATABASE_URL": f"sqlite:///{root / name / 'inference.db'}",
        "MLFLOW_TRACKING_URI": tracking_uri,
        "INFERENCE_BACKEND": backend,
        "INFERENCE_BATCHING": str(batching).lower(),
        "INFERENCE_WORK_DIR": str(root / name),
        "INFERENCE_LOG_LEVEL": "WARNING",
        "INFERENCE_QUEUE_BOUND": "4096",
        "INFERENCE_MESSAGING_ENABLED": "false" if amqp is None else "true",
    }
    if amqp is not None:
        env["AMQP_URI"] = amqp
    if max_wait_ms is not None:
        env["INFERENCE_MAX_WAIT_MS"] = str(max_wait_ms)
    process = ManagedProcess(
        f"inference-{name}",
        "extracted_services.inference",
        free_port(),
        root / name / "service.log",
        env,
    )
    process.start()
    process.wait_ready(180)
    return process


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    out = [line, "-" * len(line)]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="Measured seconds per run.")
    parser.add_argument("--no-broker", action="store_true", help="Run without RabbitMQ.")
    parser.add_argument("--backends", default="torch,onnx")
    parser.add_argument("--max-wait-ms", type=float, default=None, help="Batching max wait.")
    args = parser.parse_args()

    single = [
        json.dumps(json.loads(t.model_dump_json())).encode()
        for t in generate(2000, seed=77, id_prefix="bench")
    ]
    batches = []
    for seed in range(4):
        transactions = [json.loads(t.model_dump_json()) for t in generate(BATCH_ROWS, seed=seed)]
        batches.append(json.dumps({"transactions": transactions}).encode())
    with tempfile.TemporaryDirectory(prefix="inference-bench-") as tmp:
        root = Path(tmp)
        server = MlflowServer(root / "mlflow", free_port())
        server.start()
        management = None
        amqp = None
        try:
            if not args.no_broker:
                from eventbus import Management

                vhost = f"bench-{uuid.uuid4().hex[:8]}"
                amqp = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
                management = Management.from_amqp_uri(amqp)
                management.create_vhost()
            _train_and_register(root, server.url)
            ceiling = _ceiling(server.url, root)
            print("\nceiling: registry model in-process, 1 thread (rows/s)")
            for name, value in ceiling.items():
                print(f"  {name:32s} {value:>12,.0f}")

            results: dict[tuple[str, bool, str], Run] = {}
            for backend in args.backends.split(","):
                for batching in (False, True):
                    process = _service(root, server.url, backend, batching, amqp, args.max_wait_ms)
                    url = process.url + "/api/v1/predictions"
                    try:
                        for c in CONCURRENCY:
                            run = asyncio.run(_load(url, single, c, args.seconds, 1))
                            results[(backend, batching, f"c{c}")] = run
                        run = asyncio.run(
                            _load(url, batches, BATCH_CLIENTS, args.seconds, BATCH_ROWS)
                        )
                        results[(backend, batching, "batch")] = run
                    finally:
                        process.stop()
        finally:
            server.stop()
            if management is not None:
                management.delete_vhost()

    rows = []
    for (backend, batching, label), run in results.items():
        load = (
            f"{BATCH_CLIENTS} clients x {BATCH_ROWS}-row requests"
            if label == "batch"
            else f"concurrency {label[1:]}, 1 row"
        )
        rows.append(
            [
                backend,
                "on" if batching else "off",
                load,
                f"{run.rps:,.0f}",
                f"{run.rows_s:,.0f}",
                f"{run.p50_ms:.2f}",
                f"{run.p99_ms:.2f}",
                str(run.errors),
            ]
        )
    header = ["backend", "batching", "load", "req/s", "rows/s", "p50 ms", "p99 ms", "errors"]
    print("\nservice (uvicorn, 1 worker; load generator on the same 2 cores)")
    print(_table(rows, header))

    print("\ntargets")
    for backend in args.backends.split(","):
        off64, on64 = results[(backend, False, "c64")], results[(backend, True, "c64")]
        off1 = results[(backend, False, "c1")]
        best_rows = max(r.rows_s for (b, _, _), r in results.items() if b == backend)
        served_ceiling = ceiling[f"{backend} score+explain"]
        raw = ceiling["torch raw forward"]
        speedup = on64.rps / off64.rps
        p99_ratio = on64.p99_ms / off1.p99_ms
        print(
            f"  {backend}: batching on/off throughput at c64 = {speedup:.2f}x "
            f"(target >= 3x: {'met' if speedup >= 3 else 'NOT met'}); "
            f"p99 on@c64 / off@c1 = {p99_ratio:.1f}x "
            f"(target <= 2x: {'met' if p99_ratio <= 2 else 'NOT met'})"
        )
        print(
            f"  {backend}: best served {best_rows:,.0f} rows/s = "
            f"{100 * best_rows / raw:.1f} % of the raw forward ceiling, "
            f"{100 * best_rows / served_ceiling:.1f} % of its own score+explain ceiling "
            f"(target >= 30 %: {'met' if best_rows >= 0.3 * raw else 'NOT met'})"
        )
    if "torch" in args.backends and "onnx" in args.backends:
        for label in ("c1", "c64", "batch"):
            t, o = results[("torch", True, label)], results[("onnx", True, label)]
            print(f"  onnx/torch throughput, batching on, {label}: {o.rows_s / t.rows_s:.2f}x")


if __name__ == "__main__":
    main()
