"""``GET /api/v1/monitoring/drift``: per-feature PSI and KS over recent traffic."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from contracts.monitoring import (
    DEFAULT_DRIFT_WINDOW,
    MAX_DRIFT_WINDOW,
    MIN_DRIFT_WINDOW,
    DriftThresholds,
)
from contracts.problems import FieldError
from legacy_monolith.api.services import services
from legacy_monolith.domain.drift import drift_report
from legacy_monolith.errors import InvalidRequest

bp = Blueprint("monitoring", __name__, url_prefix="/api/v1/monitoring")


def _window() -> int:
    raw = request.args.get("window")
    if raw is None:
        return DEFAULT_DRIFT_WINDOW
    message = f"must be an integer from {MIN_DRIFT_WINDOW} to {MAX_DRIFT_WINDOW}"
    # isdigit() alone admits "²" and 5,000-digit strings, which int() refuses
    well_formed = raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_DRIFT_WINDOW))
    if not well_formed or not MIN_DRIFT_WINDOW <= int(raw) <= MAX_DRIFT_WINDOW:
        raise InvalidRequest(
            f"window {message}, got {raw!r}", [FieldError(field="window", message=message)]
        )
    return int(raw)


@bp.get("/drift")
def get_drift() -> Response:
    svc = services()
    report = drift_report(svc.db, svc.registry, _window(), DriftThresholds())
    return jsonify(report.model_dump(mode="json"))
