"""The micro-batcher: batches by size and by wait, never splits a job, refuses when full."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from extracted_services.inference.batcher import BatcherStopped, MicroBatcher, QueueFull

Job = tuple[str, int]  # (name, rows)


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(1)
    yield pool
    pool.shutdown(wait=True)


class Recorder:
    """A ``run_batch`` that records every batch and can be held closed by a gate."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, jobs: list[Job]) -> list[str]:
        self.gate.wait(5)
        self.batches.append([name for name, _ in jobs])
        return [f"done:{name}" for name, _ in jobs]


def make(recorder: Recorder, executor: ThreadPoolExecutor, **options: object) -> MicroBatcher:
    settings: dict[str, object] = {
        "max_batch_size": 8,
        "max_wait_s": 0.05,
        "queue_bound": 100,
        "rows_of": lambda job: job[1],
    }
    settings.update(options)
    return MicroBatcher(recorder, executor, **settings)  # type: ignore[arg-type]


def test_concurrent_jobs_share_one_batch_up_to_the_size_limit(
    executor: ThreadPoolExecutor,
) -> None:
    async def scenario() -> list[str]:
        recorder = Recorder()
        batcher = make(recorder, executor, max_wait_s=0.5)
        batcher.start()
        results = await asyncio.gather(*(batcher.submit((f"j{i}", 1)) for i in range(20)))
        await batcher.stop()
        assert [len(b) for b in recorder.batches] == [8, 8, 4]
        return list(results)

    results = asyncio.run(scenario())
    assert results == [f"done:j{i}" for i in range(20)]


def test_a_lone_client_is_not_delayed_but_a_crowd_waits_at_most_max_wait(
    executor: ThreadPoolExecutor,
) -> None:
    async def scenario() -> tuple[float, float]:
        recorder = Recorder()
        # A long wait, so that the bounds below hold on a machine at a load average of 4.
        batcher = make(recorder, executor, max_wait_s=0.4)
        batcher.start()
        started = time.perf_counter()
        await batcher.submit(("alone", 1))  # nobody else around: scored at once
        alone = time.perf_counter() - started
        await asyncio.gather(*(batcher.submit((f"c{i}", 1)) for i in range(3)))
        started = time.perf_counter()
        await batcher.submit(("after-a-crowd", 1))  # others were just here: wait for them
        waited = time.perf_counter() - started
        await batcher.stop()
        assert recorder.batches == [["alone"], ["c0", "c1", "c2"], ["after-a-crowd"]]
        return alone, waited

    alone, waited = asyncio.run(scenario())
    assert alone < 0.2  # did not wait the 0.4 s
    assert 0.35 <= waited < 2.0


def test_a_full_batch_does_not_wait(executor: ThreadPoolExecutor) -> None:
    async def scenario() -> float:
        recorder = Recorder()
        batcher = make(recorder, executor, max_wait_s=5.0)
        batcher.start()
        started = time.perf_counter()
        await asyncio.gather(*(batcher.submit((f"j{i}", 2)) for i in range(4)))
        elapsed = time.perf_counter() - started
        await batcher.stop()
        assert recorder.batches == [["j0", "j1", "j2", "j3"]]
        return elapsed

    assert asyncio.run(scenario()) < 1.0


def test_a_batch_request_is_never_split_and_big_ones_go_alone(
    executor: ThreadPoolExecutor,
) -> None:
    async def scenario() -> None:
        recorder = Recorder()
        batcher = make(recorder, executor, max_wait_s=0.2)
        batcher.start()
        await asyncio.gather(
            batcher.submit(("a", 5)), batcher.submit(("b", 5)), batcher.submit(("huge", 30))
        )
        await batcher.stop()
        assert sorted(recorder.batches) == [["a"], ["b"], ["huge"]]

    asyncio.run(scenario())


def test_batching_off_scores_every_job_alone(executor: ThreadPoolExecutor) -> None:
    async def scenario() -> None:
        recorder = Recorder()
        batcher = make(recorder, executor, enabled=False)
        batcher.start()
        await asyncio.gather(*(batcher.submit((f"j{i}", 1)) for i in range(6)))
        await batcher.stop()
        assert [len(b) for b in recorder.batches] == [1] * 6

    asyncio.run(scenario())


def test_a_full_queue_refuses_at_once_instead_of_growing(executor: ThreadPoolExecutor) -> None:
    async def scenario() -> None:
        recorder = Recorder()
        recorder.gate.clear()  # the scoring thread is stuck: nothing drains
        batcher = make(recorder, executor, queue_bound=4, max_batch_size=1, max_wait_s=0.0)
        batcher.start()
        first = asyncio.create_task(batcher.submit(("in-flight", 1)))
        await asyncio.sleep(0.05)  # taken by the worker, blocked in run_batch
        waiting = [asyncio.create_task(batcher.submit((f"q{i}", 1))) for i in range(4)]
        await asyncio.sleep(0.05)
        assert batcher.depth == 4
        started = time.perf_counter()
        with pytest.raises(QueueFull):
            await batcher.submit(("one-too-many", 1))
        assert time.perf_counter() - started < 0.5  # at once, never waiting for room
        assert batcher.stats.refused == 1
        recorder.gate.set()
        assert await first == "done:in-flight"
        assert await asyncio.gather(*waiting) == [f"done:q{i}" for i in range(4)]
        await batcher.stop()

    asyncio.run(scenario())


def test_completion_back_pressure_and_failures_reach_the_callers(
    executor: ThreadPoolExecutor,
) -> None:
    async def scenario() -> None:
        recorder = Recorder()
        completed: list[list[str]] = []

        async def complete(jobs: list[Job], results: list[str]) -> None:
            if any(name == "poison" for name, _ in jobs):
                raise RuntimeError("audit write failed")
            completed.append(results)

        batcher = make(recorder, executor, complete=complete, max_wait_s=0.0)
        batcher.start()
        assert await batcher.submit(("ok", 1)) == "done:ok"
        with pytest.raises(RuntimeError, match="audit write failed"):
            await batcher.submit(("poison", 1))
        assert completed == [["done:ok"]]  # an unaudited answer is never given
        await batcher.stop()
        with pytest.raises(BatcherStopped):
            await batcher.submit(("late", 1))

    asyncio.run(scenario())
