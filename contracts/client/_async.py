"""The asynchronous client: the same operations as ``ApiClient``, awaitable."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Self, TypeVar

import httpx

from contracts.client import operations as ops
from contracts.client._sync import DEFAULT_TIMEOUT, FINISHED
from contracts.client.errors import TransportError
from contracts.monitoring import DriftReport, Health, Readiness
from contracts.predictions import Prediction, PredictionBatch, PredictionRecord
from contracts.registry import ModelList, ModelVersion, TrainingRun, TrainingRunRequest
from contracts.transactions import IngestReceipt, Transaction

T = TypeVar("T")


class AsyncApiClient:
    """Talks to any provider of the public API v1, asynchronously (see ``ApiClient``).

    Pass ``http`` to reuse a configured ``httpx.AsyncClient`` (e.g. with a ``MockTransport``);
    otherwise the client owns one and closes it in ``aclose()`` / on leaving ``async with``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._owns = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._http.base_url = httpx.URL(base_url)
        self._http.headers.update({"Accept": ops.ACCEPT, **(headers or {})})

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (only when the client created it)."""
        if self._owns:
            await self._http.aclose()

    async def send(self, call: ops.Call[T]) -> T:
        """Send one prepared call (``contracts.client.operations``) and read its answer."""
        try:
            response = await self._http.send(call.build(self._http))
        except httpx.TransportError as exc:
            raise TransportError(f"{call.method} {call.path}: {exc!r}") from exc
        return call.read(response)

    async def ingest(self, transactions: Transaction | Sequence[Transaction]) -> IngestReceipt:
        """Store one transaction or a batch (idempotent on ``transaction_id``)."""
        return await self.send(ops.ingest(transactions))

    async def score(self, transaction: Transaction) -> Prediction:
        """Score one transaction."""
        return await self.send(ops.score(transaction))

    async def score_batch(self, transactions: Sequence[Transaction]) -> PredictionBatch:
        """Score a batch; predictions come back in request order."""
        return await self.send(ops.score_batch(transactions))

    async def get_prediction(self, prediction_id: str) -> PredictionRecord:
        """The audit record of one decision."""
        return await self.send(ops.get_prediction(prediction_id))

    async def start_training_run(self, request: TrainingRunRequest | None = None) -> TrainingRun:
        """Queue a training run (``None``: the provider's defaults)."""
        return await self.send(ops.start_training_run(request))

    async def get_training_run(self, run_id: str) -> TrainingRun:
        """One run's status and metrics."""
        return await self.send(ops.get_training_run(run_id))

    async def wait_for_training_run(
        self, run_id: str, *, timeout: float = 120.0, interval: float = 0.25
    ) -> TrainingRun:
        """Poll a run until it succeeded or failed; ``TimeoutError`` after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            run = await self.get_training_run(run_id)
            if run.status in FINISHED:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"training run {run_id} still {run.status} after {timeout}s")
            await asyncio.sleep(interval)

    async def list_models(self) -> ModelList:
        """Every model version and which one serves."""
        return await self.send(ops.list_models())

    async def current_model(self) -> ModelVersion:
        """The serving version (``NotFound`` when none serves)."""
        return await self.send(ops.current_model())

    async def promote_model(self, version: str) -> ModelVersion:
        """Serve ``version`` from now on (also how to roll back)."""
        return await self.send(ops.promote_model(version))

    async def drift_report(self, window: int | None = None) -> DriftReport:
        """Drift of the latest ``window`` predictions against the reference."""
        return await self.send(ops.drift_report(window))

    async def health(self) -> Health:
        """Liveness."""
        return await self.send(ops.health())

    async def readiness(self) -> Readiness:
        """Readiness; a 503 is returned as a ``not_ready`` result, not raised."""
        return await self.send(ops.readiness())

    async def metrics(self) -> str:
        """The Prometheus text exposition."""
        return await self.send(ops.metrics())
