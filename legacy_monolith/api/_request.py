"""Reading request bodies: JSON only, parsed into contract models."""

from __future__ import annotations

from typing import TypeVar

from flask import request
from pydantic import BaseModel

from contracts.payloads import ParsedTransactions, parse_model, parse_transactions
from service_runtime.problems import require_json

M = TypeVar("M", bound=BaseModel)


def _require_json(optional: bool = False) -> bytes | None:
    raw = request.get_data(cache=False)
    if optional and not raw.strip():
        return None
    require_json(request.mimetype)
    return raw


def transactions_body() -> ParsedTransactions:
    """One transaction or ``{"transactions": [...]}``."""
    raw = _require_json()
    assert raw is not None
    return parse_transactions(raw)


def model_body(model: type[M]) -> M:
    """A body validated against ``model``; an empty body means all defaults."""
    raw = _require_json(optional=True)
    if raw is None:
        return model()
    return parse_model(model, raw)
