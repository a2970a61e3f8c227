"""Drift reports and the health/readiness bodies every deployable serves."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.payloads import PayloadError
from contracts.problems import FieldError

DEFAULT_DRIFT_WINDOW = 1000
MIN_DRIFT_WINDOW = 50
MAX_DRIFT_WINDOW = 100_000


def drift_window(raw: str | None) -> int:
    """The ``window`` query parameter of ``GET /api/v1/monitoring/drift`` (absent: the
    default), or the 422 ``PayloadError`` that the monolith and the monitoring service both
    answer for it (one parser, so both refuse the same values with the same body)."""
    if raw is None:
        return DEFAULT_DRIFT_WINDOW
    message = f"must be an integer from {MIN_DRIFT_WINDOW} to {MAX_DRIFT_WINDOW}"
    # isdigit() alone admits "²" and 5,000-digit strings, which int() refuses
    well_formed = raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_DRIFT_WINDOW))
    if not well_formed or not MIN_DRIFT_WINDOW <= int(raw) <= MAX_DRIFT_WINDOW:
        raise PayloadError(
            422,
            "Request validation failed",
            f"window {message}, got {raw!r}",
            [FieldError(field="window", message=message)],
        )
    return int(raw)


class DriftThresholds(BaseModel):
    """A feature drifts when its PSI or its KS statistic reaches the threshold."""

    model_config = ConfigDict(extra="forbid")

    psi: float = 0.2
    ks: float = 0.2
    min_samples: int = MIN_DRIFT_WINDOW


class FeatureDrift(BaseModel):
    """Drift of one feature (or of the score) between the reference and the window."""

    model_config = ConfigDict(extra="forbid")

    feature: str
    psi: float = Field(ge=0.0)
    ks_statistic: float = Field(ge=0.0, le=1.0)
    ks_pvalue: float = Field(ge=0.0, le=1.0)
    reference_mean: float
    window_mean: float
    drifted: bool


class DriftWindow(BaseModel):
    """The recent traffic compared with the reference."""

    model_config = ConfigDict(extra="forbid")

    requested: int
    size: int
    start: datetime | None
    end: datetime | None


class DriftReport(BaseModel):
    """``GET /api/v1/monitoring/drift``: per-feature PSI and KS over the window."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["ok", "drift", "insufficient_data", "no_reference"]
    model_version: str | None
    reference_rows: int
    window: DriftWindow
    thresholds: DriftThresholds
    drifted_features: list[str]
    features: list[FeatureDrift]
    score: FeatureDrift | None = Field(default=None, description="Drift of the predicted score.")
    computed_at: datetime


class Health(BaseModel):
    """``GET /healthz``: the process is alive."""

    status: Literal["ok"] = "ok"
    service: str


class Readiness(BaseModel):
    """``GET /readyz``: 200 when every check is ``ok``, 503 otherwise."""

    status: Literal["ready", "not_ready"]
    service: str
    checks: dict[str, str]
    model_version: str | None = None
