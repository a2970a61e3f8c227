"""Shadow traffic after GitHub's Scientist: the primary always answers the client.

After the primary's answer has been sent, a copy of the request (with the primary's
status and body) is put on a bounded queue; when the queue is full the copy is dropped
and counted. Workers send copies to the candidate and compare the answers. A candidate
failure is recorded (metric, sample), never raised; nothing here can slow or fail the
client's request.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp

from contracts.dry_run import DRY_RUN_HEADER, DRY_RUN_VALUE
from strangler_proxy.errors import UpstreamError
from strangler_proxy.forwarding import UpstreamClient, read_bounded
from strangler_proxy.metrics import ProxyMetrics
from strangler_proxy.route_state import RouteState
from strangler_proxy.route_table.models import IDEMPOTENT_METHODS

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ShadowJob:
    state: RouteState
    client: UpstreamClient
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes | None
    primary_status: int
    primary_body: bytes


class ShadowDispatcher:
    """A bounded queue and a few workers; ``submit`` never blocks."""

    def __init__(self, metrics: ProxyMetrics, size: int, workers: int, max_body: int) -> None:
        self.metrics = metrics
        self.max_body = max_body
        self._size = size
        self._workers_n = workers
        self._queue: asyncio.Queue[ShadowJob] | None = None
        self._workers: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._queue = asyncio.Queue(self._size)
        self._workers = [
            asyncio.create_task(self._work(), name=f"shadow-{i}") for i in range(self._workers_n)
        ]

    async def stop(self) -> None:
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

    @property
    def depth(self) -> int:
        return self._queue.qsize() if self._queue is not None else 0

    def drop(self, state: RouteState, reason: str) -> None:
        state.shadow.dropped += 1
        self.metrics.shadow_dropped.labels(state.route.name, reason).inc()

    def submit(self, job: ShadowJob) -> bool:
        if self._queue is None:
            self.drop(job.state, "not_running")
            return False
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            self.drop(job.state, "queue_full")
            return False
        return True

    async def join(self) -> None:
        """Wait until every queued copy has been handled (tests, graceful shutdown)."""
        if self._queue is not None:
            await self._queue.join()

    async def _work(self) -> None:
        assert self._queue is not None
        while True:
            job = await self._queue.get()
            try:
                await self._run(job)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # recorded, never raised: the experiment must not hurt
                logger.exception("shadow copy for route %s failed", job.state.route.name)
                job.state.record_shadow_error(
                    job.method,
                    job.target,
                    job.primary_status,
                    job.primary_body,
                    "internal",
                    repr(exc),
                )
            finally:
                self._queue.task_done()

    async def _run(self, job: ShadowJob) -> None:
        headers = [*job.headers, ("X-Shadow-Request", "true")]
        if job.method not in IDEMPOTENT_METHODS:
            headers.append((DRY_RUN_HEADER, DRY_RUN_VALUE))
        name = job.state.route.name
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            response = await job.client.exchange(
                job.method, job.target, headers, job.body, replayable=False
            )
        except UpstreamError as exc:
            job.state.record_shadow_error(
                job.method, job.target, job.primary_status, job.primary_body, exc.slug, str(exc)
            )
            return
        try:
            body = await read_bounded(response, self.max_body)
        except (TimeoutError, aiohttp.ClientError) as exc:
            job.state.record_shadow_error(
                job.method, job.target, job.primary_status, job.primary_body, "read", repr(exc)
            )
            return
        finally:
            response.release()
        self.metrics.exchange(
            name, job.client.name, "shadow", response.status, loop.time() - started
        )
        if len(body) > self.max_body:
            self.drop(job.state, "body_too_large")
            return
        job.state.record_comparison(
            job.method, job.target, job.primary_status, job.primary_body, response.status, body
        )
