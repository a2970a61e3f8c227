"""Scoring with explanations, and the audit log of every decision.

A request's transactions are scored as one batch by the serving model; each decision is
stored (inputs, feature vector, score, decision, explanation, model version, time) in the
same database transaction that produces the answer, so nothing is answered unaudited.
"""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select

from contracts.features import transform_many
from contracts.predictions import Attribution, Decision, Prediction, PredictionRecord
from contracts.transactions import Transaction
from legacy_monolith.clock import as_utc, utcnow
from legacy_monolith.db import Database
from legacy_monolith.domain.registry import ModelRegistry
from legacy_monolith.errors import NoModelServing, NotFound
from legacy_monolith.observability import Metrics
from legacy_monolith.schema import PredictionRow
from riskmodel.scoring import decide, explain_rows, top_attributions


def score(
    db: Database, registry: ModelRegistry, metrics: Metrics, transactions: list[Transaction]
) -> list[Prediction]:
    """Score, explain, audit; in request order."""
    model = registry.serving()
    if model is None:
        reason = registry.load_error or "no model has been trained and promoted yet"
        raise NoModelServing(f"{reason}; POST /api/v1/models/training-runs first")
    features = transform_many(transactions)
    scores, attributions = explain_rows(model.network, features)
    now = utcnow()
    predictions = []
    rows = []
    for index, tx in enumerate(transactions):
        probability = min(1.0, max(0.0, float(scores[index])))
        prediction = Prediction(
            prediction_id=str(uuid.uuid4()),
            transaction_id=tx.transaction_id,
            score=round(probability, 8),
            decision=decide(probability),
            model_version=str(model.version),
            explanation=top_attributions(features[index], attributions[index]),
            created_at=now,
        )
        predictions.append(prediction)
        rows.append(
            PredictionRow(
                prediction_id=prediction.prediction_id,
                transaction_id=tx.transaction_id,
                transaction=tx.model_dump(mode="json"),
                features=[float(v) for v in features[index]],
                score=prediction.score,
                decision=prediction.decision.value,
                model_version=model.version,
                explanation=[a.model_dump() for a in prediction.explanation],
                created_at=now,
            )
        )
    with db.session() as session:
        session.add_all(rows)
    for prediction in predictions:
        metrics.predictions.labels(prediction.decision.value).inc()
    return predictions


def audit_record(db: Database, prediction_id: str) -> PredictionRecord:
    """The stored decision, exactly as it was answered."""
    if "\x00" in prediction_id:  # PostgreSQL text cannot hold NUL: no such record can exist
        raise NotFound(f"prediction {prediction_id!r} does not exist")
    with db.session() as session:
        row = session.get(PredictionRow, prediction_id)
        if row is None:
            raise NotFound(f"prediction {prediction_id!r} does not exist")
        return PredictionRecord(
            prediction_id=row.prediction_id,
            transaction_id=row.transaction_id,
            score=row.score,
            decision=Decision(row.decision),
            model_version=str(row.model_version),
            explanation=[Attribution.model_validate(a) for a in row.explanation],
            created_at=as_utc(row.created_at),
            transaction=Transaction.model_validate_json(json.dumps(row.transaction)),
        )


def recent_feature_rows(
    db: Database, limit: int
) -> tuple[list[list[float]], list[float], list[object]]:
    """Feature vectors, scores and times of the newest ``limit`` predictions."""
    with db.session() as session:
        rows = session.execute(
            select(PredictionRow.features, PredictionRow.score, PredictionRow.created_at)
            .order_by(PredictionRow.created_at.desc())
            .limit(limit)
        ).all()
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
