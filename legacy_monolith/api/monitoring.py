"""``GET /api/v1/monitoring/drift``: per-feature PSI and KS over recent traffic."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from contracts.monitoring import DriftThresholds, drift_window
from legacy_monolith.api.services import services
from legacy_monolith.domain.drift import drift_report

bp = Blueprint("monitoring", __name__, url_prefix="/api/v1/monitoring")


@bp.get("/drift")
def get_drift() -> Response:
    svc = services()
    window = drift_window(request.args.get("window"))  # a bad one: PayloadError, a 422
    report = drift_report(svc.db, svc.registry, window, DriftThresholds())
    return jsonify(report.model_dump(mode="json"))
