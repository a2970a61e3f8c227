"""Parsing request bodies into contract models, with field-level errors.

The public API accepts one transaction or a batch (``{"transactions": [...]}``) on both
``/transactions`` and ``/predictions``. Every implementation parses with this module so that
the same body gets the same answer (and the same error list) from the monolith and from
the extracted services.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from contracts.problems import FieldError, validation_field_path
from contracts.transactions import MAX_BATCH_SIZE, Transaction, TransactionBatch

M = TypeVar("M", bound=BaseModel)


class PayloadError(Exception):
    """A body that is not acceptable; ``status`` is 400 (not JSON) or 422 (invalid)."""

    def __init__(self, status: int, title: str, detail: str, errors: list[FieldError]) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors


@dataclass(frozen=True)
class ParsedTransactions:
    """The transactions of a request, and whether the client sent the batch form."""

    transactions: list[Transaction]
    is_batch: bool


def field_errors(exc: ValidationError, prefix: tuple[int | str, ...] = ()) -> list[FieldError]:
    """Turn pydantic's errors into the API's ``errors`` list."""
    out: list[FieldError] = []
    for err in exc.errors(include_url=False):
        message = str(err["msg"])
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        out.append(
            FieldError(field=validation_field_path(prefix + tuple(err["loc"])), message=message)
        )
    return out


def invalid(errors: list[FieldError]) -> PayloadError:
    """The 422 for a body that is JSON but breaks the contract."""
    count = len(errors)
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
    if count > 5:
        detail += f"; and {count - 5} more"
    return PayloadError(422, "Request validation failed", detail, errors)


def load_json(raw: bytes) -> Any:
    """Decode a JSON body, or raise the 400 that says where it broke."""
    if not raw.strip():
        raise PayloadError(400, "Malformed JSON", "the request body is empty", [])
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(400, "Malformed JSON", f"the body is not valid JSON: {exc}", []) from exc
    except RecursionError as exc:
        raise PayloadError(400, "Malformed JSON", "the body is nested too deeply", []) from exc
    except ValueError as exc:  # e.g. an integer literal beyond Python's digit limit
        raise PayloadError(
            400, "Malformed JSON", f"the body is not usable JSON: {exc}", []
        ) from exc


def parse_model(model: type[M], raw: bytes) -> M:
    """Validate a JSON body against one contract model (JSON mode, so strict types hold)."""
    load_json(raw)
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise invalid(field_errors(exc)) from exc


def parse_transactions(raw: bytes) -> ParsedTransactions:
    """Parse one transaction or a batch of up to 1,000."""
    document = load_json(raw)
    if not isinstance(document, dict):
        raise invalid(
            [
                FieldError(
                    field="body", message='must be a transaction object or {"transactions": [...]}'
                )
            ]
        )
    is_batch = "transactions" in document
    if is_batch:
        items = document.get("transactions")
        if isinstance(items, list) and len(items) > MAX_BATCH_SIZE:
            raise invalid(
                [
                    FieldError(
                        field="transactions",
                        message=(
                            f"at most {MAX_BATCH_SIZE} transactions per request, got {len(items)}"
                        ),
                    )
                ]
            )
    try:
        if is_batch:
            batch = TransactionBatch.model_validate_json(raw)
            return ParsedTransactions(list(batch.transactions), True)
        return ParsedTransactions([Transaction.model_validate_json(raw)], False)
    except ValidationError as exc:
        raise invalid(field_errors(exc)) from exc
