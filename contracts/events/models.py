"""The kit's events: one model per event type, on the common envelope.

Payloads reuse the public API's models (``Transaction``, ``PredictionRecord``,
``ModelMetrics``, ``FeatureDrift``) so that an event and an API response never disagree
about what a transaction or a prediction is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.events.envelope import Event
from contracts.monitoring import FeatureDrift
from contracts.predictions import PredictionRecord
from contracts.registry import DataWindow, HoldoutEvaluation, ModelMetrics
from contracts.transactions import MAX_BATCH_SIZE, Transaction


class TransactionsIngested(Event):
    """Transactions were stored by ingestion (only the ones accepted, not duplicates).

    Training reads them as data for the next run; the legacy sync writes them into the
    monolith's database while both sides coexist.
    """

    event_type: Literal["transactions_ingested"] = "transactions_ingested"
    schema_version: Literal[1] = 1
    ingested_at: AwareDatetime = Field(description="When ingestion accepted the batch.")
    transactions: list[Transaction] = Field(min_length=1, max_length=MAX_BATCH_SIZE)


#: Decisions one ``prediction_logged`` carries at most (a bigger scoring batch is split).
MAX_LOGGED_DECISIONS = 1000


class LoggedDecision(BaseModel):
    """One audited decision as monitoring needs it: the record and the model's input."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prediction: PredictionRecord
    features: list[float] = Field(
        description="The model's input vector, in the order of the feature spec.",
    )
    traceparent: str | None = Field(
        default=None, description="The W3C trace context of the request that was answered."
    )


class PredictionLogged(Event):
    """Decisions were made and audited: the decisions of one scoring batch, in answer order;
    monitoring adds them to its drift window.

    Schema v2 (v1 carried one decision per message): the broker, the publisher and the
    consumer each paid more per message than the work was worth, so one audit transaction's
    decisions travel together. A consumer still dedupes per decision (``prediction_id``).
    """

    event_type: Literal["prediction_logged"] = "prediction_logged"
    schema_version: Literal[2] = 2
    decisions: list[LoggedDecision] = Field(min_length=1, max_length=MAX_LOGGED_DECISIONS)
    feature_spec_version: str = Field(examples=["1"])


class FeatureReference(BaseModel):
    """The training distribution of one feature, enough to compute PSI and KS later."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    feature: str
    bin_edges: list[float] = Field(min_length=2, description="Ascending; len(fractions) + 1.")
    bin_fractions: list[float] = Field(min_length=1, description="Share of rows per bin.")
    mean: float
    sample: list[float] = Field(
        max_length=2000, description="A seeded sample of the values, for the KS test."
    )


class TrainingCompleted(Event):
    """A training run finished; on success it carries the new reference distribution."""

    event_type: Literal["training_completed"] = "training_completed"
    schema_version: Literal[1] = 1
    run_id: str
    status: Literal["succeeded", "failed"]
    model_version: str | None = Field(description="Set when the run succeeded.")
    feature_spec_version: str
    metrics: ModelMetrics | None
    data_window: DataWindow | None
    reference: list[FeatureReference] = Field(
        default_factory=list, description="Per-feature training distribution (success only)."
    )
    error: str | None = None
    evaluation: HoldoutEvaluation | None = Field(
        default=None, description="Against the serving model, on the same fresh hold-out."
    )


class ModelPromoted(Event):
    """A model version now serves (a promotion or a roll-back); inference hot-swaps to it."""

    event_type: Literal["model_promoted"] = "model_promoted"
    schema_version: Literal[1] = 1
    model_version: str
    previous_version: str | None
    model_uri: str = Field(
        description="Where to load it from, e.g. an MLflow registry URI.",
        examples=["models:/risk-scorer/3"],
    )
    feature_spec_version: str
    promoted_at: datetime
    reason: Literal["promotion", "rollback"] = "promotion"


class ChallengerProposed(Event):
    """A new version beat the serving one on a fresh hold-out: before it may serve, every
    inference instance scores it beside the champion on live traffic (shadow scoring:
    the champion answers) and reports with ``shadow_scored``."""

    event_type: Literal["challenger_proposed"] = "challenger_proposed"
    schema_version: Literal[1] = 1
    model_version: str
    model_uri: str = Field(examples=["models:/risk-scorer/5"])
    champion_version: str | None
    feature_spec_version: str
    rows: int = Field(ge=1, le=100_000, description="Live decisions to score before reporting.")
    evaluation: HoldoutEvaluation
    proposed_at: datetime


class ShadowScored(Event):
    """An inference instance scored a proposed version beside the champion on live
    traffic; how the two compared (the champion's answers were the ones given)."""

    event_type: Literal["shadow_scored"] = "shadow_scored"
    schema_version: Literal[1] = 1
    model_version: str = Field(description="The proposed version (the challenger).")
    champion_version: str
    instance: str = Field(description="Which inference instance scored.")
    outcome: Literal["completed", "aborted", "failed"] = Field(
        description="completed: ``rows`` were scored; aborted: the champion changed first; "
        "failed: the version could not be loaded or scored."
    )
    reason: str = ""
    rows: int = Field(ge=0)
    agreement: float = Field(ge=0.0, le=1.0, description="Share of identical decisions.")
    challenger_decline_rate: float = Field(ge=0.0, le=1.0)
    champion_decline_rate: float = Field(ge=0.0, le=1.0)
    challenger_mean_score: float = Field(ge=0.0, le=1.0)
    champion_mean_score: float = Field(ge=0.0, le=1.0)
    errors: int = Field(ge=0, description="Rows the challenger could not score (non-finite).")
    started_at: datetime
    finished_at: datetime


class DriftDetected(Event):
    """Monitoring found drift over its window; training starts a new run."""

    event_type: Literal["drift_detected"] = "drift_detected"
    schema_version: Literal[1] = 1
    model_version: str | None
    window_size: int = Field(ge=1)
    drifted_features: list[str] = Field(min_length=1)
    features: list[FeatureDrift]
    detected_at: datetime
