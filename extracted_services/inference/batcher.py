"""Micro-batching: concurrent requests gathered into one forward pass, with back-pressure.

One worker task takes the first waiting job, then keeps taking jobs until the batch holds
``max_batch_size`` rows or ``max_wait`` has passed since that first job (it waits only
when requests are arriving concurrently: a lone request is scored at once), and runs the
whole batch in one call of ``run_batch`` on a dedicated thread (off the event loop). While
that thread scores, new requests queue up, so under load the next batch is ready the
moment the previous one is done. A job is never split: a batch request of many rows is one
job, and a job larger than ``max_batch_size`` is scored alone.

The queue is bounded: ``submit`` raises ``QueueFull`` at once when ``queue_bound`` jobs
wait (the caller answers 503 with ``Retry-After``), so overload never grows into an
unbounded backlog. After scoring, ``complete`` (the audit write) runs as its own task while
the next batch is scored; at most ``max_in_flight`` batches may be completing, beyond that
the worker waits, and the queue fills, and clients get 503: back-pressure end to end.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

J = TypeVar("J")
R = TypeVar("R")


class QueueFull(Exception):
    """The bounded queue is full: refuse now rather than queue without limit."""


class BatcherStopped(Exception):
    """The batcher stopped before the job was scored."""


@dataclass
class BatchStats:
    """Counters a test or ``/metrics`` can read."""

    batches: int = 0
    rows: int = 0
    refused: int = 0
    sizes: list[int] = field(default_factory=list)  # the last few batch sizes, for tests
    keep: int = 1000

    def record(self, rows: int) -> None:
        self.batches += 1
        self.rows += rows
        self.sizes.append(rows)
        if len(self.sizes) > self.keep:
            del self.sizes[: len(self.sizes) - self.keep]


@dataclass
class _Pending(Generic[J, R]):
    job: J
    rows: int
    future: asyncio.Future[R]


class MicroBatcher(Generic[J, R]):
    """Gathers jobs into batches for ``run_batch`` (blocking, one result per job)."""

    def __init__(
        self,
        run_batch: Callable[[list[J]], list[R]],
        executor: Executor,
        *,
        rows_of: Callable[[J], int],
        max_batch_size: int,
        max_wait_s: float,
        queue_bound: int,
        enabled: bool = True,
        complete: Callable[[list[J], list[R]], Awaitable[None]] | None = None,
        max_in_flight: int = 4,
        on_batch: Callable[[int], None] | None = None,
        on_depth: Callable[[int], None] | None = None,
    ) -> None:
        self._run_batch = run_batch
        self._executor = executor
        self._rows_of = rows_of
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_s
        self.enabled = enabled
        self._complete = complete
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._queue: asyncio.Queue[_Pending[J, R]] = asyncio.Queue(maxsize=queue_bound)
        self._carry: _Pending[J, R] | None = None
        self._queued_rows = 0
        self._wanted_rows: int | None = None
        self._enough = asyncio.Event()
        self._last_jobs = 0
        self._worker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._on_batch = on_batch
        self._on_depth = on_depth
        self.stats = BatchStats()

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.create_task(self._work(), name="micro-batcher")

    async def stop(self) -> None:
        """Stop taking batches, let completing ones finish, fail whatever still waits."""
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
            self._worker = None
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        leftovers = [self._carry] if self._carry else []
        while not self._queue.empty():
            leftovers.append(self._queue.get_nowait())
        self._carry = None
        for pending in leftovers:
            if not pending.future.done():
                pending.future.set_exception(BatcherStopped("the service is stopping"))

    @property
    def depth(self) -> int:
        """Jobs waiting to be scored."""
        return self._queue.qsize() + (1 if self._carry else 0)

    # -- the caller's side ----------------------------------------------------------------
    async def submit(self, job: J) -> R:
        """Queue ``job`` and wait for its result; ``QueueFull`` when the queue is full."""
        if self._worker is None:
            raise BatcherStopped("the batcher is not running")
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        pending = _Pending(job, self._rows_of(job), future)
        try:
            self._queue.put_nowait(pending)
        except asyncio.QueueFull:
            self.stats.refused += 1
            raise QueueFull(f"{self._queue.maxsize} requests are already waiting") from None
        self._queued_rows += pending.rows
        if self._wanted_rows is not None and self._queued_rows >= self._wanted_rows:
            self._enough.set()
        if self._on_depth:
            self._on_depth(self.depth)
        return await future

    # -- the worker -----------------------------------------------------------------------
    def _take(self) -> _Pending[J, R]:
        pending = self._queue.get_nowait()
        self._queued_rows -= pending.rows
        return pending

    async def _next(self) -> _Pending[J, R]:
        if self._carry is not None:
            pending, self._carry = self._carry, None
            return pending
        pending = await self._queue.get()
        self._queued_rows -= pending.rows
        return pending

    def _fill(self, batch: list[_Pending[J, R]], rows: int) -> int:
        """Add queued jobs while they fit; a job that does not fit waits for the next batch."""
        while rows < self.max_batch_size and not self._queue.empty():
            pending = self._take()
            if rows + pending.rows > self.max_batch_size:
                self._carry = pending
                break
            batch.append(pending)
            rows += pending.rows
        return rows

    async def _gather(self) -> list[_Pending[J, R]]:
        first = await self._next()
        batch, rows = [first], first.rows
        if not self.enabled:
            return batch
        rows = self._fill(batch, rows)
        # Wait for company only when there is company to wait for: the last batch was
        # shared, or more jobs queued meanwhile. A lone client (concurrency 1) is scored at
        # once instead of paying ``max_wait`` on every request.
        crowded = self._last_jobs > 1 or len(batch) > 1
        if crowded and rows < self.max_batch_size and self._carry is None and self.max_wait_s > 0:
            self._wanted_rows = self.max_batch_size - rows
            self._enough.clear()
            try:
                await asyncio.wait_for(self._enough.wait(), self.max_wait_s)
            except TimeoutError:
                pass
            finally:
                self._wanted_rows = None
            self._fill(batch, rows)
        self._last_jobs = len(batch)
        return batch

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._gather()
            if self._on_depth:
                self._on_depth(self.depth)
            live = [p for p in batch if not p.future.done()]  # the client may have gone
            if not live:
                continue
            rows = sum(p.rows for p in live)
            self.stats.record(rows)
            if self._on_batch:
                self._on_batch(rows)
            jobs = [p.job for p in live]
            try:
                results = await loop.run_in_executor(self._executor, self._run_batch, jobs)
                if len(results) != len(jobs):
                    raise RuntimeError(f"run_batch returned {len(results)} for {len(jobs)}")
            except asyncio.CancelledError:
                for p in live:
                    if not p.future.done():
                        p.future.set_exception(BatcherStopped("the service is stopping"))
                raise
            except Exception as exc:  # noqa: BLE001 - the batch's callers get the error
                logger.exception("a batch of %d rows failed to score", rows)
                for p in live:
                    if not p.future.done():
                        p.future.set_exception(exc)
                continue
            await self._in_flight.acquire()
            task = asyncio.create_task(self._finish(live, results))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _finish(self, batch: list[_Pending[J, R]], results: list[R]) -> None:
        try:
            if self._complete is not None:
                await self._complete([p.job for p in batch], results)
        except Exception as exc:  # noqa: BLE001 - an unaudited answer must not be given
            logger.exception("completing a batch of %d jobs failed", len(batch))
            for p in batch:
                if not p.future.done():
                    p.future.set_exception(exc)
            return
        finally:
            self._in_flight.release()
        for p, result in zip(batch, results, strict=True):
            if not p.future.done():
                p.future.set_result(result)
