"""The client's operations as data: how to build each request and how to read its answer.

The sync and async clients share these, so the two can never disagree; they only differ in
how they send the request.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from contracts.client.errors import (
    ProblemError,
    ResponseContractError,
    UnexpectedResponse,
    error_for,
    problem_from_status,
)
from contracts.monitoring import DriftReport, Health, Readiness
from contracts.predictions import Prediction, PredictionBatch, PredictionRecord
from contracts.problems import PROBLEM_CONTENT_TYPE, Problem
from contracts.registry import ModelList, ModelVersion, TrainingRun, TrainingRunRequest
from contracts.transactions import IngestReceipt, Transaction, TransactionBatch

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

ACCEPT = "application/json, application/problem+json;q=0.9"


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and the function that turns its declared success answer into ``T``."""

    method: str
    path: str
    decode: Any  # Callable[[httpx.Response], T]; Any keeps the dataclass generic-friendly
    success: tuple[int, ...]
    body: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    has_body: bool = False

    def build(self, client: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        """The httpx request (JSON body when the operation takes one)."""
        kwargs: dict[str, Any] = {"params": self.params or None}
        if self.has_body:
            kwargs["content"] = json.dumps(self.body, separators=(",", ":")).encode()
            kwargs["headers"] = {"Content-Type": "application/json"}
        return client.build_request(self.method, self.path, **kwargs)

    def read(self, response: httpx.Response) -> T:
        """The typed result, or the typed exception for any other answer."""
        if response.status_code in self.success:
            result: T = self.decode(response)
            return result
        raise translate_error(response)


def _segment(value: str) -> str:
    if not value:
        raise ValueError("a path identifier must not be empty")
    return quote(value, safe="")


def _model(model: type[M]) -> Any:
    def decode(response: httpx.Response) -> M:
        # A tolerant reader: v1 may add response fields, which must not break old clients.
        try:
            return model.model_validate_json(response.content, extra="ignore")
        except ValidationError as exc:
            raise ResponseContractError(
                f"{response.request.method} {response.request.url.path} answered "
                f"{response.status_code} with a body that is not a {model.__name__}: {exc}",
                response.status_code,
                response.text,
            ) from exc

    return decode


def _text(response: httpx.Response) -> str:
    return response.text


def translate_error(response: httpx.Response) -> ProblemError | UnexpectedResponse:
    """The exception for an answer outside the operation's success statuses."""
    status = response.status_code
    if status < 400:
        return UnexpectedResponse(
            f"{response.request.method} {response.request.url.path}: undeclared status {status}",
            status,
            response.text,
        )
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media in (PROBLEM_CONTENT_TYPE, "application/json"):
        try:
            problem = Problem.model_validate_json(response.content)
        except ValidationError:
            problem = None
        if problem is not None:
            return error_for(problem)
    return error_for(problem_from_status(status, response.text))


def _tx(transaction: Transaction) -> dict[str, Any]:
    return transaction.model_dump(mode="json")


def _batch(transactions: Sequence[Transaction]) -> dict[str, Any]:
    return TransactionBatch(transactions=list(transactions)).model_dump(mode="json")


def ingest(transactions: Transaction | Sequence[Transaction]) -> Call[IngestReceipt]:
    body = _tx(transactions) if isinstance(transactions, Transaction) else _batch(transactions)
    return Call("POST", "/api/v1/transactions", _model(IngestReceipt), (202,), body, has_body=True)


def score(transaction: Transaction) -> Call[Prediction]:
    return Call(
        "POST", "/api/v1/predictions", _model(Prediction), (200,), _tx(transaction), has_body=True
    )


def score_batch(transactions: Sequence[Transaction]) -> Call[PredictionBatch]:
    return Call(
        "POST",
        "/api/v1/predictions",
        _model(PredictionBatch),
        (200,),
        _batch(transactions),
        has_body=True,
    )


def get_prediction(prediction_id: str) -> Call[PredictionRecord]:
    path = f"/api/v1/predictions/{_segment(prediction_id)}"
    return Call("GET", path, _model(PredictionRecord), (200,))


def start_training_run(request: TrainingRunRequest | None) -> Call[TrainingRun]:
    body = request.model_dump(mode="json", exclude_unset=True) if request is not None else {}
    return Call(
        "POST", "/api/v1/models/training-runs", _model(TrainingRun), (202,), body, has_body=True
    )


def get_training_run(run_id: str) -> Call[TrainingRun]:
    path = f"/api/v1/models/training-runs/{_segment(run_id)}"
    return Call("GET", path, _model(TrainingRun), (200,))


def list_models() -> Call[ModelList]:
    return Call("GET", "/api/v1/models", _model(ModelList), (200,))


def current_model() -> Call[ModelVersion]:
    return Call("GET", "/api/v1/models/current", _model(ModelVersion), (200,))


def promote_model(version: str) -> Call[ModelVersion]:
    path = f"/api/v1/models/{_segment(version)}/promote"
    return Call("POST", path, _model(ModelVersion), (200,))


def drift_report(window: int | None) -> Call[DriftReport]:
    params = {"window": window} if window is not None else {}
    return Call("GET", "/api/v1/monitoring/drift", _model(DriftReport), (200,), params=params)


def health() -> Call[Health]:
    return Call("GET", "/healthz", _model(Health), (200,))


def readiness() -> Call[Readiness]:
    # 503 is a declared answer with the same body: "not ready" is a result, not an error.
    return Call("GET", "/readyz", _model(Readiness), (200, 503))


def metrics() -> Call[str]:
    return Call("GET", "/metrics", _text, (200,))
