"""Operational endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from contracts.monitoring import Health, Readiness
from legacy_monolith.api.services import services

bp = Blueprint("ops", __name__)

SERVICE_NAME = "legacy-monolith"


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(Health(service=SERVICE_NAME).model_dump())


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready when the database answers and the promoted model (if any) is loaded.

    Before the first training run there is nothing to load, and the monolith is ready to
    ingest and train; the check says so.
    """
    svc = services()
    checks = {"database": "ok" if svc.db.reachable() else "unreachable"}
    model = svc.registry.serving()
    if model is not None:
        checks["model"] = "ok"
    elif svc.registry.load_error:
        checks["model"] = svc.registry.load_error
    else:
        checks["model"] = "ok (no model trained yet)"
    ready = all(value.startswith("ok") for value in checks.values())
    body = Readiness(
        status="ready" if ready else "not_ready",
        service=SERVICE_NAME,
        checks=checks,
        model_version=str(model.version) if model else None,
    )
    return jsonify(body.model_dump()), 200 if ready else 503


@bp.get("/metrics")
def metrics() -> Response:
    return services().metrics.render()
