"""``/api/v1/models``: training runs, model versions, promotion and rollback."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, url_for

from contracts.registry import TrainingRunRequest
from legacy_monolith.api._request import model_body
from legacy_monolith.api.services import services
from legacy_monolith.errors import NotFound

bp = Blueprint("models", __name__, url_prefix="/api/v1/models")


def _version(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise NotFound(f"model version {text!r} does not exist")
    return int(text)


@bp.post("/training-runs")
def post_training_run() -> tuple[Response, int, dict[str, str]]:
    params = model_body(TrainingRunRequest)
    run = services().training.submit(params)
    location = url_for(".get_training_run", run_id=run.run_id)
    return jsonify(run.model_dump(mode="json")), 202, {"Location": location}


@bp.get("/training-runs/<run_id>")
def get_training_run(run_id: str) -> Response:
    return jsonify(services().training.get(run_id).model_dump(mode="json"))


@bp.get("")
def list_models() -> Response:
    return jsonify(services().registry.list().model_dump(mode="json"))


@bp.get("/current")
def current_model() -> Response:
    registry = services().registry
    version = registry.current_version()
    if version is None:
        raise NotFound("no model is serving yet; train one with POST /api/v1/models/training-runs")
    return jsonify(registry.get(version).model_dump(mode="json"))


@bp.post("/<version>/promote")
def promote(version: str) -> Response:
    svc = services()
    promoted = svc.registry.promote(_version(version))
    svc.metrics.model_version.set(int(promoted.version))
    return jsonify(promoted.model_dump(mode="json"))
