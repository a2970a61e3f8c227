"""The declared table of the public API v1: every operation, its inputs and its answers.

The OpenAPI document is generated from this table and the models it names, so adding an
endpoint is one row here (plus its models); ``make contracts`` then regenerates ``v1.yaml``
and the compatibility check decides whether the change is allowed within v1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from contracts.monitoring import (
    DEFAULT_DRIFT_WINDOW,
    MAX_DRIFT_WINDOW,
    MIN_DRIFT_WINDOW,
    DriftReport,
    Health,
    Readiness,
)
from contracts.predictions import Prediction, PredictionBatch, PredictionRecord
from contracts.problems import Problem
from contracts.registry import ModelList, ModelVersion, TrainingRun, TrainingRunRequest
from contracts.transactions import IngestReceipt, Transaction, TransactionBatch

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
PROMETHEUS_TEXT = "text/plain"

Method = Literal["get", "post"]


@dataclass(frozen=True)
class Body:
    """A request body: one model, or one of several (``anyOf``)."""

    models: tuple[type[BaseModel], ...]
    required: bool = True
    description: str = ""


@dataclass(frozen=True)
class Reply:
    """One declared response. ``model`` None means a non-JSON body (``content_type``)."""

    status: int
    description: str
    model: tuple[type[BaseModel], ...] | type[BaseModel] | None = None
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def models(self) -> tuple[type[BaseModel], ...]:
        if self.model is None:
            return ()
        if isinstance(self.model, tuple):
            return self.model
        return (self.model,)


@dataclass(frozen=True)
class Param:
    """A path or query parameter, with its JSON Schema."""

    name: str
    location: Literal["path", "query"]
    schema: dict[str, object]
    description: str
    required: bool = True


@dataclass(frozen=True)
class Operation:
    """One method on one path."""

    operation_id: str
    method: Method
    path: str
    summary: str
    tag: str
    replies: tuple[Reply, ...]
    body: Body | None = None
    params: tuple[Param, ...] = field(default_factory=tuple)


def _problem(status: int, description: str) -> Reply:
    return Reply(status, description, Problem, content_type=PROBLEM_JSON)


_BAD_BODY = (
    _problem(400, "The body is not valid JSON (problem type malformed-json)."),
    _problem(413, "The body is too large (problem type payload-too-large)."),
    _problem(415, "The Content-Type is not application/json (unsupported-media-type)."),
    _problem(422, "The body breaks the contract; `errors` lists each field (validation)."),
)
_NOT_FOUND = _problem(404, "No such resource (problem type not-found).")
_ID_SCHEMA: dict[str, object] = {"type": "string", "minLength": 1, "maxLength": 128}

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "ingestTransactions",
        "post",
        "/api/v1/transactions",
        "Ingest one transaction or a batch of up to 1,000; idempotent on transaction_id.",
        "transactions",
        body=Body((Transaction, TransactionBatch), description="One transaction or a batch."),
        replies=(
            Reply(202, "Accepted; one result per transaction, in request order.", IngestReceipt),
            *_BAD_BODY,
            _problem(409, "A transaction_id is stored with a different body (conflict)."),
        ),
    ),
    Operation(
        "scoreTransactions",
        "post",
        "/api/v1/predictions",
        "Score one transaction (a Prediction) or a batch (a PredictionBatch).",
        "predictions",
        body=Body((Transaction, TransactionBatch), description="One transaction or a batch."),
        replies=(
            Reply(200, "Scored, with explanations.", (Prediction, PredictionBatch)),
            *_BAD_BODY,
            _problem(409, "No model is serving yet (problem type no-model)."),
        ),
    ),
    Operation(
        "getPrediction",
        "get",
        "/api/v1/predictions/{prediction_id}",
        "The audit record of one decision.",
        "predictions",
        params=(Param("prediction_id", "path", _ID_SCHEMA, "The prediction's id."),),
        replies=(Reply(200, "The audit record.", PredictionRecord), _NOT_FOUND),
    ),
    Operation(
        "startTrainingRun",
        "post",
        "/api/v1/models/training-runs",
        "Start a training run (an empty body or {} means the defaults).",
        "models",
        body=Body((TrainingRunRequest,), required=False, description="Run options."),
        replies=(
            Reply(
                202,
                "Queued.",
                TrainingRun,
                headers=(("Location", "The run's URL."),),
            ),
            *_BAD_BODY,
            _problem(409, "Not enough labelled transactions to train (not-enough-data)."),
        ),
    ),
    Operation(
        "getTrainingRun",
        "get",
        "/api/v1/models/training-runs/{run_id}",
        "Status and metrics of one training run.",
        "models",
        params=(Param("run_id", "path", _ID_SCHEMA, "The run's id."),),
        replies=(Reply(200, "The run.", TrainingRun), _NOT_FOUND),
    ),
    Operation(
        "listModels",
        "get",
        "/api/v1/models",
        "Every model version, newest first, and which one serves.",
        "models",
        replies=(Reply(200, "The versions.", ModelList),),
    ),
    Operation(
        "getCurrentModel",
        "get",
        "/api/v1/models/current",
        "The model version that serves predictions.",
        "models",
        replies=(
            Reply(200, "The serving version.", ModelVersion),
            _problem(404, "No model serves yet (problem type not-found)."),
        ),
    ),
    Operation(
        "promoteModel",
        "post",
        "/api/v1/models/{version}/promote",
        "Serve this version from now on (promotion, or roll-back to an older one).",
        "models",
        params=(Param("version", "path", _ID_SCHEMA, "The model version."),),
        replies=(Reply(200, "The version, now current.", ModelVersion), _NOT_FOUND),
    ),
    Operation(
        "getDriftReport",
        "get",
        "/api/v1/monitoring/drift",
        "Per-feature drift (PSI and KS) of the latest predictions against the reference.",
        "monitoring",
        params=(
            Param(
                "window",
                "query",
                {
                    "type": "integer",
                    "minimum": MIN_DRIFT_WINDOW,
                    "maximum": MAX_DRIFT_WINDOW,
                    "default": DEFAULT_DRIFT_WINDOW,
                },
                "How many of the latest predictions to compare.",
                required=False,
            ),
        ),
        replies=(
            Reply(200, "The report.", DriftReport),
            _problem(422, "The window is not an integer in range (validation)."),
        ),
    ),
    Operation(
        "getHealth",
        "get",
        "/healthz",
        "Liveness: the process is up.",
        "operations",
        replies=(Reply(200, "Alive.", Health),),
    ),
    Operation(
        "getReadiness",
        "get",
        "/readyz",
        "Readiness: every dependency check passes.",
        "operations",
        replies=(
            Reply(200, "Ready.", Readiness),
            Reply(503, "Not ready; `checks` says which check failed.", Readiness),
        ),
    ),
    Operation(
        "getMetrics",
        "get",
        "/metrics",
        "Prometheus metrics in the text exposition format.",
        "operations",
        replies=(Reply(200, "The metrics.", None, content_type=PROMETHEUS_TEXT),),
    ),
)
