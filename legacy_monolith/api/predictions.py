"""``/api/v1/predictions``: score with explanations, and read the audit record."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from contracts.predictions import PredictionBatch
from legacy_monolith.api._request import transactions_body
from legacy_monolith.api.services import services
from legacy_monolith.domain.inference import audit_record, score

bp = Blueprint("predictions", __name__, url_prefix="/api/v1/predictions")


@bp.post("")
def post_predictions() -> Response:
    parsed = transactions_body()
    svc = services()
    predictions = score(svc.db, svc.registry, svc.metrics, parsed.transactions)
    if parsed.is_batch:
        return jsonify(PredictionBatch(predictions=predictions).model_dump(mode="json"))
    return jsonify(predictions[0].model_dump(mode="json"))


@bp.get("/<prediction_id>")
def get_prediction(prediction_id: str) -> Response:
    record = audit_record(services().db, prediction_id)
    return jsonify(record.model_dump(mode="json"))
