"""``POST /api/v1/transactions``: ingest one transaction or a batch."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from legacy_monolith.api._request import transactions_body
from legacy_monolith.api.services import services
from legacy_monolith.domain.ingest import ingest

bp = Blueprint("transactions", __name__, url_prefix="/api/v1/transactions")


@bp.post("")
def post_transactions() -> tuple[Response, int]:
    parsed = transactions_body()
    svc = services()
    receipt = ingest(svc.db, parsed.transactions)
    svc.metrics.ingested.inc(receipt.accepted)
    return jsonify(receipt.model_dump(mode="json")), 202
