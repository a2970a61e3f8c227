"""The served model and how it is replaced while requests keep flowing.

``ModelHolder.current`` is one reference to an immutable, fully checked ``ServedModel``.
The batch worker reads it once at the start of each batch and scores the whole batch with
that object, so a batch is never split between two versions, and a version is never seen
half-loaded: a candidate is loaded and checked on a separate loader thread, and only a
model that passed every check is published, by a single reference assignment, which takes
effect between batches. A candidate that fails is refused (logged, counted, remembered)
and the old model keeps serving.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from extracted_services.inference.errors import ModelRejected
from extracted_services.inference.registry import ServedModel

logger = logging.getLogger(__name__)

SwapStatus = Literal["swapped", "unchanged", "refused"]


@dataclass(frozen=True)
class SwapOutcome:
    """What a promotion did."""

    status: SwapStatus
    uri: str
    version: str | None
    previous_version: str | None
    reason: str | None = None
    transient: bool = False  # refused only because the registry could not be asked


@dataclass(frozen=True)
class Refusal:
    """A version that was not allowed to serve, and why."""

    uri: str
    version: str | None
    reason: str
    at: datetime


def compact_heap() -> None:
    """Collect once, then freeze the survivors out of the garbage collector's sight.

    torch, MLflow and the ONNX export leave some 300,000-500,000 long-lived objects; every
    full collection walks all of them, which was measured at 270-530 ms, a pause that hit
    any request in flight (the p99 tail). After a swap, the old model is unreachable: one
    collection frees it, and ``gc.freeze`` keeps everything alive now out of later
    collections, so they only see what requests allocate. The one pause happens per swap,
    off the event loop's own work (on the loader thread), never per request.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class ModelHolder:
    """The one reference to the serving model."""

    def __init__(self) -> None:
        self._current: ServedModel | None = None

    @property
    def current(self) -> ServedModel | None:
        return self._current

    def publish(self, model: ServedModel) -> ServedModel | None:
        """Serve ``model`` from the next batch on; returns the one it replaces."""
        previous, self._current = self._current, model
        return previous


class HotSwapper:
    """Loads, checks and publishes model versions, one promotion at a time."""

    def __init__(
        self,
        holder: ModelHolder,
        load: Callable[[str], ServedModel],
        executor: Executor,
        *,
        on_swap: Callable[[ServedModel], None] | None = None,
        on_refuse: Callable[[Refusal], None] | None = None,
        after_swap: Callable[[], None] | None = compact_heap,
    ) -> None:
        self._holder = holder
        self._load = load
        self._executor = executor
        self._lock = asyncio.Lock()
        self._on_swap = on_swap
        self._on_refuse = on_refuse
        self._after_swap = after_swap
        self.refusals: list[Refusal] = []
        self.swaps = 0

    async def promote(self, uri: str, expected_version: str | None = None) -> SwapOutcome:
        """Load ``uri`` in the background, check it, and serve it if it passes.

        A promotion of the version already serving changes nothing (a redelivered
        ``model_promoted`` is harmless). ``expected_version`` guards against an alias that
        moved on: the resolved version must be the one the event announced.
        """
        async with self._lock:
            serving = self._holder.current
            previous = serving.version if serving else None
            if (
                serving is not None
                and expected_version is not None
                and serving.version == expected_version
                and _same_model(serving.uri, uri, expected_version, serving.name)
            ):
                return SwapOutcome("unchanged", uri, expected_version, previous)
            loop = asyncio.get_running_loop()
            try:
                candidate = await loop.run_in_executor(self._executor, self._load, uri)
                if expected_version is not None and candidate.version != expected_version:
                    raise ModelRejected(
                        uri,
                        f"{uri} resolved to version {candidate.version}, "
                        f"not the promoted {expected_version}",
                        version=candidate.version,
                    )
            except ModelRejected as exc:
                refusal = Refusal(uri, exc.version or expected_version, exc.reason, _now())
                self.refusals.append(refusal)
                del self.refusals[:-50]
                logger.error(
                    "refused model %s (version %s): %s; still serving version %s",
                    uri,
                    refusal.version,
                    exc.reason,
                    previous,
                )
                if self._on_refuse:
                    self._on_refuse(refusal)
                return SwapOutcome(
                    "refused", uri, refusal.version, previous, exc.reason, exc.transient
                )
            if serving is not None and candidate.version == serving.version:
                return SwapOutcome("unchanged", uri, candidate.version, previous)
            self._holder.publish(candidate)
            self.swaps += 1
            logger.info(
                "now serving %s version %s (was %s)", candidate.name, candidate.version, previous
            )
            if self._on_swap:
                self._on_swap(candidate)
            if self._after_swap is not None:
                await loop.run_in_executor(self._executor, self._after_swap)
            return SwapOutcome("swapped", uri, candidate.version, previous)


def _same_model(served_uri: str, uri: str, version: str, name: str) -> bool:
    return uri in (served_uri, f"models:/{name}/{version}") or uri.startswith(f"models:/{name}@")


def _now() -> datetime:
    return datetime.now(UTC)
