"""Pact matchers for the contract models' JSON shapes, shared by the consumer tests.

Every response is described by type and format, never by literal value, so that any
correct provider (whatever ids, scores and times it produces) satisfies the pact.
"""

from __future__ import annotations

from typing import Any

from pact import generate, match

RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
PROBLEM_BASE = "https://ai-migration-kit.dev/problems/"


def timestamp(example: str = "2026-11-25T10:15:00.123456Z") -> Any:
    return match.regex(example, regex=RFC3339)


def one_of(example: str, *values: str) -> Any:
    return match.regex(example, regex="^(" + "|".join(values) + ")$")


def from_state(example: str, expression: str) -> Any:
    """A value the provider state handler supplies (e.g. an id it just created)."""
    return match.like(example, generator=generate.provider_state(expression))


def nullable_string(example: str | None = None) -> Any:
    # Type matching cannot express "string or null"; null examples only match null.
    return match.none() if example is None else match.str(example)


def metrics() -> dict[str, Any]:
    return {
        "roc_auc": match.number(0.93),
        "pr_auc": match.number(0.61),
        "brier": match.number(0.02),
        "train_rows": match.int(1600),
        "holdout_rows": match.int(400),
        "fraud_rate": match.number(0.02),
    }


def model_version(version: Any = None) -> dict[str, Any]:
    return {
        "version": version if version is not None else match.str("1"),
        "created_at": timestamp(),
        "training_run_id": match.str("7f1d3c52-1111-4a55-9c1e-2a9f6b3d0a77"),
        "feature_spec_version": match.str("1"),
        "metrics": metrics(),
        "data_window": {
            "start": timestamp("2026-01-05T00:00:00Z"),
            "end": timestamp("2026-01-06T00:00:00Z"),
            "rows": match.int(2000),
        },
        "is_current": match.bool(True),
    }


def attribution() -> dict[str, Any]:
    return {
        "feature": match.str("amount_vs_category"),
        "value": match.number(1.2),
        "attribution": match.number(0.9),
    }


def prediction(transaction_id: str, prediction_id: Any = None) -> dict[str, Any]:
    return {
        "prediction_id": prediction_id
        if prediction_id is not None
        else match.str("5f0c6b1e-2b7a-4c8e-9a53-0d3f1f9d2c11"),
        "transaction_id": transaction_id,
        "score": match.number(0.12),
        "decision": one_of("approve", "approve", "review", "decline"),
        "model_version": match.str("1"),
        "explanation": match.each_like(attribution(), min=1),
        "created_at": timestamp(),
    }


def problem(
    slug: str, status: int, *, with_errors: bool = False, field: str = "amount"
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": match.str("Problem title"),
        "status": status,
        "detail": match.str("What went wrong"),
    }
    if with_errors:
        body["errors"] = match.each_like(
            {"field": match.str(field), "message": match.str("is invalid")},
            min=1,
        )
    return body


def training_run(run_id: Any, status: Any, *, promote: bool) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "status": status,
        "params": {
            "epochs": match.int(2),
            "max_rows": match.none(),
            "since": match.none(),
            "until": match.none(),
            "seed": match.int(0),
            "promote": promote,
        },
        "requested_at": timestamp(),
    }
