"""Training runs and model versions: the model-management part of the public API."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)


def whole_number(value: object) -> object:
    """``24.0`` is the integer 24 in JSON (the OpenAPI document's ``integer`` accepts it);
    ``24.5`` and ``"24"`` stay what they are, and strict validation refuses them."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class RunStatus(StrEnum):
    """Lifecycle of a training run."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class TrainingRunRequest(BaseModel):
    """Options of ``POST /api/v1/models/training-runs``; every field has a default."""

    model_config = ConfigDict(extra="forbid", strict=True)

    epochs: int = Field(default=8, ge=1, le=100)
    max_rows: int | None = Field(
        default=None,
        ge=100,
        le=2_000_000,
        description="Train on at most this many of the newest labelled rows.",
    )
    since: AwareDatetime | None = Field(
        default=None, description="Only transactions at or after this time."
    )
    until: AwareDatetime | None = Field(
        default=None, description="Only transactions before this time."
    )
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    promote: bool = Field(default=True, description="Serve the new version when the run succeeds.")

    _whole_numbers = field_validator("epochs", "max_rows", "seed", mode="before")(whole_number)

    @model_validator(mode="after")
    def _window_order(self) -> TrainingRunRequest:
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ValueError("since must be before until")
        return self


class ModelMetrics(BaseModel):
    """Quality on the held-out split."""

    model_config = ConfigDict(extra="forbid")

    roc_auc: float = Field(ge=0.0, le=1.0)
    pr_auc: float = Field(ge=0.0, le=1.0)
    brier: float = Field(
        ge=0.0, le=1.0, description="Calibration: mean squared error of the score."
    )
    train_rows: int = Field(ge=0)
    holdout_rows: int = Field(ge=0)
    fraud_rate: float = Field(ge=0.0, le=1.0)


class DataWindow(BaseModel):
    """Which transactions a model was trained on."""

    model_config = ConfigDict(extra="forbid")

    start: datetime
    end: datetime
    rows: int = Field(ge=0)


class HoldoutEvaluation(BaseModel):
    """A new model and the serving one, scored on the same fresh labelled hold-out: the
    newest labelled transactions by arrival, which the new model did not train on.

    ``sufficient`` says whether the hold-out is big enough, in rows and in fraud cases, for
    the comparison to mean something; below that no model is promoted automatically.
    """

    model_config = ConfigDict(extra="forbid")

    rows: int = Field(ge=0, description="Transactions in the hold-out.")
    positives: int = Field(ge=0, description="Fraud cases among them.")
    window: DataWindow | None = Field(default=None, description="Their time span.")
    sufficient: bool
    challenger_roc_auc: float | None = Field(default=None, ge=0.0, le=1.0)
    champion_version: str | None = Field(
        default=None, description="The version serving when the run started (none: first model)."
    )
    champion_roc_auc: float | None = Field(default=None, ge=0.0, le=1.0)
    summary: str = Field(description="The comparison in words.")


class TrainingRun(BaseModel):
    """A training run; ``model_version`` is set when it succeeded."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    status: RunStatus
    params: TrainingRunRequest
    requested_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    metrics: ModelMetrics | None = None
    model_version: str | None = None
    error: str | None = None
    evaluation: HoldoutEvaluation | None = Field(
        default=None, description="Against the serving model, on the same fresh hold-out."
    )
    promotion: str | None = Field(
        default=None,
        description="What happened to the new version: promoted, shadow scoring, or why not.",
    )


class ModelVersion(BaseModel):
    """One trained model."""

    model_config = ConfigDict(extra="forbid")

    version: str = Field(examples=["3"])
    created_at: datetime
    training_run_id: str | None
    feature_spec_version: str
    metrics: ModelMetrics
    data_window: DataWindow
    is_current: bool
    promoted_at: datetime | None = None


class ModelList(BaseModel):
    """All model versions, newest first, and which one serves."""

    model_config = ConfigDict(extra="forbid")

    current_version: str | None
    models: list[ModelVersion]
