"""Hot-swap logic: only checked models serve, refusals keep the old one, batches never mix."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import pytest

from contracts.features import N_FEATURES, transform_many
from datagen import generate
from extracted_services.inference.audit import AuditEntry
from extracted_services.inference.batcher import MicroBatcher
from extracted_services.inference.errors import ModelRejected
from extracted_services.inference.hotswap import HotSwapper, ModelHolder
from extracted_services.inference.registry import PROBE_ROWS, ServedModel, check_scores
from extracted_services.inference.scorer import ScoreJob, score_jobs


class ConstantBackend:
    """Scores every row with one constant: the version, so mixes are visible."""

    name = "fake"

    def __init__(self, value: float) -> None:
        self.value = value

    def explain(
        self, features: npt.NDArray[np.float32]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        n = features.shape[0]
        return np.full(n, self.value), np.zeros((n, N_FEATURES))


def served(version: str) -> ServedModel:
    return ServedModel(
        name="risk-scorer",
        version=version,
        uri=f"models:/risk-scorer/{version}",
        feature_spec_version="1",
        backend=ConstantBackend(int(version) / 10),
    )


class FakeRegistry:
    """``load`` for the swapper: good versions load (slowly), bad ones are rejected."""

    def __init__(self, bad: set[str], delay_s: float = 0.05) -> None:
        self.bad = bad
        self.delay_s = delay_s
        self.loads: list[str] = []

    def load(self, uri: str) -> ServedModel:
        version = uri.rsplit("/", 1)[1]
        self.loads.append(version)
        time.sleep(self.delay_s)
        if version in self.bad:
            raise ModelRejected(uri, "probe batch scored to NaN", version=version)
        return served(version)


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(1)
    yield executor
    executor.shutdown(wait=True)


def test_a_good_version_swaps_in_and_a_repeat_changes_nothing(pool: ThreadPoolExecutor) -> None:
    holder, registry = ModelHolder(), FakeRegistry(bad=set())
    swapped: list[str] = []
    swapper = HotSwapper(holder, registry.load, pool, on_swap=lambda m: swapped.append(m.version))

    async def scenario() -> None:
        assert (await swapper.promote("models:/risk-scorer/1")).status == "swapped"
        outcome = await swapper.promote("models:/risk-scorer/2", "2")
        assert (outcome.status, outcome.previous_version) == ("swapped", "1")
        again = await swapper.promote("models:/risk-scorer/2", "2")  # a redelivered event
        assert again.status == "unchanged"

    asyncio.run(scenario())
    assert holder.current is not None and holder.current.version == "2"
    assert swapped == ["1", "2"] and registry.loads == ["1", "2"]


def test_a_bad_version_is_refused_and_the_old_one_keeps_serving(
    pool: ThreadPoolExecutor,
) -> None:
    holder, registry = ModelHolder(), FakeRegistry(bad={"3"})
    refused: list[str] = []
    swapper = HotSwapper(
        holder, registry.load, pool, on_refuse=lambda r: refused.append(str(r.version))
    )

    async def scenario() -> None:
        await swapper.promote("models:/risk-scorer/2")
        outcome = await swapper.promote("models:/risk-scorer/3", "3")
        assert outcome.status == "refused" and outcome.reason == "probe batch scored to NaN"
        assert outcome.previous_version == "2"

    asyncio.run(scenario())
    assert holder.current is not None and holder.current.version == "2"
    assert refused == ["3"] and swapper.refusals[-1].version == "3"


def test_an_alias_that_resolves_to_another_version_is_refused(pool: ThreadPoolExecutor) -> None:
    holder = ModelHolder()
    swapper = HotSwapper(holder, lambda uri: served("4"), pool)
    outcome = asyncio.run(swapper.promote("models:/risk-scorer@champion", "5"))
    assert outcome.status == "refused" and holder.current is None


def test_probe_checks_refuse_nan_and_non_probabilities() -> None:
    good = np.full(PROBE_ROWS, 0.5), np.zeros((PROBE_ROWS, N_FEATURES))
    check_scores("u", *good)
    with pytest.raises(ModelRejected, match="NaN"):
        check_scores("u", np.full(PROBE_ROWS, np.nan), good[1])
    with pytest.raises(ModelRejected, match="probabilities"):
        check_scores("u", np.full(PROBE_ROWS, 1.5), good[1])
    with pytest.raises(ModelRejected, match="shapes"):
        check_scores("u", np.full(3, 0.5), good[1])


def test_swapping_under_load_never_mixes_versions_within_a_batch(
    pool: ThreadPoolExecutor,
) -> None:
    """The service's own batch function (``score_jobs`` on ``holder.current``) under swaps.

    Each fake version scores every row with ``version / 10``; a prediction whose score does
    not belong to its reported version, or a batch answered by two versions, would mean a
    request saw a half-swapped model.
    """
    holder, registry = ModelHolder(), FakeRegistry(bad=set(), delay_s=0.02)
    loader_pool = ThreadPoolExecutor(1)
    swapper = HotSwapper(holder, registry.load, loader_pool)
    transactions = generate(4, seed=1)
    features = transform_many(transactions)

    def run_batch(jobs: list[ScoreJob]) -> list[list[AuditEntry]]:
        model = holder.current
        assert model is not None
        return score_jobs(model, jobs)

    async def scenario() -> list[list[AuditEntry]]:
        await swapper.promote("models:/risk-scorer/1")
        batcher: MicroBatcher[ScoreJob, list[AuditEntry]] = MicroBatcher(
            run_batch, pool, rows_of=lambda job: job.rows, max_batch_size=16,
            max_wait_s=0.002, queue_bound=1000,
        )  # fmt: skip
        batcher.start()
        answers: list[list[AuditEntry]] = []
        done = asyncio.Event()

        async def client(k: int) -> None:
            while not done.is_set():
                n = 1 + k % 4
                job = ScoreJob(transactions[:n], features[:n])
                answers.append(await batcher.submit(job))

        async def promotions() -> None:
            for version in ("2", "3", "4"):
                await asyncio.sleep(0.05)
                assert (await swapper.promote(f"models:/risk-scorer/{version}")).status == "swapped"
            await asyncio.sleep(0.05)
            done.set()

        await asyncio.gather(*(client(k) for k in range(16)), promotions())
        await batcher.stop()
        return answers

    answers = asyncio.run(scenario())
    loader_pool.shutdown(wait=True)
    seen = set()
    for answer in answers:
        versions = {entry.prediction.model_version for entry in answer}
        assert len(versions) == 1, "one request, one model"
        for entry in answer:
            assert entry.prediction.score == pytest.approx(int(entry.prediction.model_version) / 10)
        seen |= versions
    assert seen == {"1", "2", "3", "4"}
