"""Turning one scored batch into the API's predictions, exactly as the monolith does.

The batch worker stacks the feature rows of every job in a batch, scores them with the
serving model in one call, and this module cuts the result back into one answer per job,
with the shared decision thresholds and explanation presentation of ``riskmodel.scoring``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from contracts.predictions import Prediction
from contracts.transactions import Transaction
from extracted_services.inference.audit import AuditEntry
from extracted_services.inference.registry import ServedModel
from riskmodel.scoring import decide, top_attributions


@dataclass(frozen=True)
class ScoreJob:
    """One request's transactions and their feature rows (a batch request is one job)."""

    transactions: list[Transaction]
    features: npt.NDArray[np.float32]
    traceparent: str | None = None
    #: Dry run (``X-Dry-Run: true``, e.g. a proxy's shadow copy): scored and answered,
    #: never audited, never announced, never counted as live traffic.
    dry_run: bool = False

    @property
    def rows(self) -> int:
        return len(self.transactions)


def score_jobs(model: ServedModel, jobs: list[ScoreJob]) -> list[list[AuditEntry]]:
    """Score every job's rows in one backend call; one list of entries per job."""
    features = jobs[0].features if len(jobs) == 1 else np.concatenate([j.features for j in jobs])
    scores, attributions = model.backend.explain(features)
    now = datetime.now(UTC)
    out: list[list[AuditEntry]] = []
    row = 0
    for job in jobs:
        entries = []
        for tx in job.transactions:
            probability = min(1.0, max(0.0, float(scores[row])))
            prediction = Prediction(
                prediction_id=str(uuid.uuid4()),
                transaction_id=tx.transaction_id,
                score=round(probability, 8),
                decision=decide(probability),
                model_version=model.version,
                explanation=top_attributions(features[row], attributions[row]),
                created_at=now,
            )
            entries.append(
                AuditEntry(
                    prediction=prediction,
                    transaction=tx,
                    features=[float(v) for v in features[row]],
                    traceparent=job.traceparent,
                )
            )
            row += 1
        out.append(entries)
    return out
