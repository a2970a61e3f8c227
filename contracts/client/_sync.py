"""The synchronous client: one method per operation of the public API v1."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Self, TypeVar

import httpx

from contracts.client import operations as ops
from contracts.client.errors import TransportError
from contracts.monitoring import DriftReport, Health, Readiness
from contracts.predictions import Prediction, PredictionBatch, PredictionRecord
from contracts.registry import ModelList, ModelVersion, RunStatus, TrainingRun, TrainingRunRequest
from contracts.transactions import IngestReceipt, Transaction

T = TypeVar("T")
DEFAULT_TIMEOUT = 10.0
FINISHED = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED})


class ApiClient:
    """Talks to any provider of the public API v1 (monolith, proxy, services).

    Pass ``http`` to reuse a configured ``httpx.Client`` (e.g. with a ``MockTransport``);
    otherwise the client owns one and closes it in ``close()`` / on leaving ``with``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self._owns = http is None
        self._http = http or httpx.Client(timeout=timeout)
        self._http.base_url = httpx.URL(base_url)
        self._http.headers.update({"Accept": ops.ACCEPT, **(headers or {})})

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool (only when the client created it)."""
        if self._owns:
            self._http.close()

    def send(self, call: ops.Call[T]) -> T:
        """Send one prepared call (``contracts.client.operations``) and read its answer;
        every method below is one of these. Tools that must send a body of their own (a
        foreign consumer's, in the contract tests) build a ``Call`` and send it here."""
        try:
            response = self._http.send(call.build(self._http))
        except httpx.TransportError as exc:
            raise TransportError(f"{call.method} {call.path}: {exc!r}") from exc
        return call.read(response)

    def ingest(self, transactions: Transaction | Sequence[Transaction]) -> IngestReceipt:
        """Store one transaction or a batch (idempotent on ``transaction_id``)."""
        return self.send(ops.ingest(transactions))

    def score(self, transaction: Transaction) -> Prediction:
        """Score one transaction."""
        return self.send(ops.score(transaction))

    def score_batch(self, transactions: Sequence[Transaction]) -> PredictionBatch:
        """Score a batch; predictions come back in request order."""
        return self.send(ops.score_batch(transactions))

    def get_prediction(self, prediction_id: str) -> PredictionRecord:
        """The audit record of one decision."""
        return self.send(ops.get_prediction(prediction_id))

    def start_training_run(self, request: TrainingRunRequest | None = None) -> TrainingRun:
        """Queue a training run (``None``: the provider's defaults)."""
        return self.send(ops.start_training_run(request))

    def get_training_run(self, run_id: str) -> TrainingRun:
        """One run's status and metrics."""
        return self.send(ops.get_training_run(run_id))

    def wait_for_training_run(
        self, run_id: str, *, timeout: float = 120.0, interval: float = 0.25
    ) -> TrainingRun:
        """Poll a run until it succeeded or failed; ``TimeoutError`` after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.get_training_run(run_id)
            if run.status in FINISHED:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"training run {run_id} still {run.status} after {timeout}s")
            time.sleep(interval)

    def list_models(self) -> ModelList:
        """Every model version and which one serves."""
        return self.send(ops.list_models())

    def current_model(self) -> ModelVersion:
        """The serving version (``NotFound`` when none serves)."""
        return self.send(ops.current_model())

    def promote_model(self, version: str) -> ModelVersion:
        """Serve ``version`` from now on (also how to roll back)."""
        return self.send(ops.promote_model(version))

    def drift_report(self, window: int | None = None) -> DriftReport:
        """Drift of the latest ``window`` predictions against the reference."""
        return self.send(ops.drift_report(window))

    def health(self) -> Health:
        """Liveness."""
        return self.send(ops.health())

    def readiness(self) -> Readiness:
        """Readiness; a 503 is returned as a ``not_ready`` result, not raised."""
        return self.send(ops.readiness())

    def metrics(self) -> str:
        """The Prometheus text exposition."""
        return self.send(ops.metrics())
