"""The kit's traffic generator: generated transactions at a fixed rate, through the API.

An open model (requests start on schedule whether or not earlier ones finished), bounded
in rate and duration, to 127.0.0.1 only. Every outcome is recorded so a step can say
exactly how many client requests failed while traffic moved.

``open_model`` is the schedule alone: another migration's traffic (the topology's
``kit.traffic``) sends its own requests on it and reports in a ``TrafficReport``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from contracts.client import ApiError, AsyncApiClient, ProblemError
from datagen import DRIFT_PRESETS, TransactionGenerator

_MAX_IN_FLIGHT = 200


@dataclass
class TrafficReport:
    """What happened to the requests one run sent."""

    sent: int = 0
    ok: int = 0
    failed: int = 0
    by_outcome: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    prediction_ids: list[str] = field(default_factory=list)
    ingested_ids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def percentile(self, q: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]

    def summary(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "ok": self.ok,
            "failed": self.failed,
            "by_outcome": dict(self.by_outcome),
            "p50_ms": self.percentile(50),
            "p99_ms": self.percentile(99),
            "errors": self.errors[:5],
        }


async def _one(
    client: AsyncApiClient, generator: TransactionGenerator, predict: bool, report: TrafficReport
) -> None:
    tx = generator.generate(1)[0]
    started = time.perf_counter()
    try:
        if predict:
            prediction = await client.score(tx.model_copy(update={"is_fraud": None}))
            report.prediction_ids.append(prediction.prediction_id)
            report.by_outcome["prediction ok"] += 1
        else:
            await client.ingest(tx)
            report.ingested_ids.append(tx.transaction_id)
            report.by_outcome["ingest ok"] += 1
        report.ok += 1
    except ProblemError as exc:
        report.failed += 1
        report.by_outcome[f"HTTP {exc.status}"] += 1
        if len(report.errors) < 20:
            report.errors.append(str(exc))
    except ApiError as exc:
        report.failed += 1
        report.by_outcome[type(exc).__name__] += 1
        if len(report.errors) < 20:
            report.errors.append(str(exc))
    finally:
        report.latencies_ms.append((time.perf_counter() - started) * 1000)


async def drive(
    base_url: str,
    *,
    rate_per_s: float,
    duration_s: float,
    predictions_share: float = 0.8,
    drift: str = "none",
    seed: int = 100,
    token: str | None = None,
    id_prefix: str = "traffic",
    start: datetime | None = None,
    stop: threading.Event | None = None,
) -> TrafficReport:
    """Send ``rate_per_s`` requests a second for ``duration_s`` seconds (or until ``stop``
    is set); wait for them all."""
    if drift not in DRIFT_PRESETS:
        raise ValueError(f"unknown drift preset {drift!r}; known: {', '.join(DRIFT_PRESETS)}")
    generator = TransactionGenerator(
        seed=seed,
        drift=DRIFT_PRESETS[drift],
        id_prefix=f"{id_prefix}-{int(time.time())}",
        start=start,
    )
    headers = {"Authorization": f"Bearer {token}"} if token else None
    report = TrafficReport()
    async with AsyncApiClient(base_url, timeout=10.0, headers=headers) as client:

        async def send(index: int) -> None:
            # Spread the predictions evenly: the share holds over any stretch of requests.
            predict = int((index + 1) * predictions_share) > int(index * predictions_share)
            await _one(client, generator, predict, report)

        report.sent = await open_model(rate_per_s, duration_s, send, stop=stop)
    return report


async def open_model(
    rate_per_s: float,
    duration_s: float,
    send: Callable[[int], Awaitable[None]],
    *,
    stop: threading.Event | None = None,
) -> int:
    """Start ``send(i)`` on schedule, ``rate_per_s`` a second for ``duration_s`` seconds
    (or until ``stop`` is set), whether or not earlier ones finished (at most 200 in
    flight); wait for them all. Returns how many were started."""
    total = int(rate_per_s * duration_s)
    interval = 1.0 / rate_per_s
    limit = asyncio.Semaphore(_MAX_IN_FLIGHT)
    tasks: list[asyncio.Task[None]] = []

    async def guarded(index: int) -> None:
        async with limit:
            await send(index)

    began = time.perf_counter()
    for index in range(total):
        if stop is not None and stop.is_set():
            break
        delay = began + index * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(guarded(index)))
    await asyncio.gather(*tasks)
    return len(tasks)


def drive_sync(base_url: str, **options: object) -> TrafficReport:
    """``drive`` from synchronous code."""
    return asyncio.run(drive(base_url, **options))  # type: ignore[arg-type]
