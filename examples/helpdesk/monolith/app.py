"""The monolith's application factory: the tickets blueprint, health, the OpenAPI document,
and every error as problem+json."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from examples.helpdesk.api import MAX_LIMIT, PROBLEM_CONTENT_TYPE, TicketIn, TicketList, problem
from examples.helpdesk.monolith.openapi import openapi_document
from examples.helpdesk.monolith.settings import Settings
from examples.helpdesk.store import TicketStore, make_engine

tickets_bp = Blueprint("tickets", __name__, url_prefix="/api/tickets")
health_bp = Blueprint("health", __name__)


class Problem(Exception):
    """An error the client caused or should hear about, rendered as problem+json."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def _store() -> TicketStore:
    store: TicketStore = current_app.extensions["helpdesk.store"]
    return store


@tickets_bp.post("")
def create_ticket() -> tuple[Any, int]:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise Problem(400, "Malformed request", "the body must be a JSON object")
    try:
        new = TicketIn.model_validate(payload)
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise Problem(422, "Invalid ticket", fields) from None
    ticket = _store().create(new)
    return jsonify(ticket.model_dump(mode="json")), 201


@tickets_bp.get("/<ticket_id>")
def get_ticket(ticket_id: str) -> Any:
    # Any id that is not a stored ticket is "not found", the same answer the read
    # service gives (the proxy compares them).
    ticket = _store().get(int(ticket_id)) if ticket_id.isdigit() else None
    if ticket is None:
        raise Problem(404, "Not Found", f"no ticket {ticket_id}")
    return jsonify(ticket.model_dump(mode="json"))


@tickets_bp.get("")
def list_tickets() -> Any:
    limit = request.args.get("limit", "20")
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
        raise Problem(422, "Invalid query", f"limit must be an integer from 1 to {MAX_LIMIT}")
    found = _store().list(request.args.get("customer_id"), int(limit))
    return jsonify(TicketList(tickets=found).model_dump(mode="json"))


@health_bp.get("/healthz")
def healthz() -> Any:
    return jsonify({"status": "ok"})


@health_bp.get("/readyz")
def readyz() -> Any:
    try:
        _store().ping()
    except SQLAlchemyError as exc:
        raise Problem(503, "Not ready", f"database unreachable: {type(exc).__name__}") from None
    return jsonify({"status": "ready"})


@health_bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(openapi_document())


def _render(status: int, title: str, detail: str) -> Any:
    response = jsonify(problem(status, title, detail))
    response.status_code = status
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def create_app(settings: Settings | None = None) -> Flask:
    """The monolith for ``settings`` (default: from the environment); creates its schema."""
    settings = settings if settings is not None else Settings()
    app = Flask("examples.helpdesk.monolith")
    store = TicketStore(make_engine(settings.database_url))
    store.create_schema()
    app.extensions["helpdesk.store"] = store
    app.register_blueprint(tickets_bp)
    app.register_blueprint(health_bp)
    app.register_error_handler(Problem, lambda e: _render(e.status, e.title, e.detail))
    app.register_error_handler(
        HTTPException,
        lambda e: _render(e.code or 500, e.name, e.description or e.name),
    )
    return app
