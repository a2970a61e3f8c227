"""Predictions: the scored decision with its explanation, and the audit record."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from contracts.transactions import Transaction


class Decision(StrEnum):
    """What the business does with a transaction, by thresholds on the score."""

    APPROVE = "approve"
    REVIEW = "review"
    DECLINE = "decline"


class Attribution(BaseModel):
    """How much one feature pushed the score (gradient x input), with the feature's value."""

    model_config = ConfigDict(extra="forbid")

    feature: str = Field(examples=["amount_vs_category"])
    value: float = Field(description="The feature's value in the model's input vector.")
    attribution: float = Field(description="Signed contribution; larger magnitude matters more.")


class Prediction(BaseModel):
    """One scored transaction."""

    model_config = ConfigDict(extra="forbid")

    prediction_id: str = Field(examples=["5f0c6b1e-2b7a-4c8e-9a53-0d3f1f9d2c11"])
    transaction_id: str
    score: float = Field(ge=0.0, le=1.0, description="Estimated probability of fraud.")
    decision: Decision
    model_version: str = Field(examples=["3"])
    explanation: list[Attribution] = Field(description="Top attributions, largest first.")
    created_at: datetime


class PredictionBatch(BaseModel):
    """The answer to a batch request, in the order of the request."""

    model_config = ConfigDict(extra="forbid")

    predictions: list[Prediction]


class PredictionRecord(Prediction):
    """The audit record of one decision: its inputs, its output, the model, the time."""

    transaction: Transaction
