"""The HTTP side of the worker: request parsing and JSON answers for nameko's
werkzeug-based ``@http`` entrypoints. Errors are answered by the kit's nameko installer
(``service_runtime.problems_nameko``) with the bodies the monolith answers with."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel
from werkzeug.wrappers import Request, Response

from contracts.payloads import parse_model
from service_runtime.problems import require_json

M = TypeVar("M", bound=BaseModel)

#: Largest request body read (a training request is a few hundred bytes); a larger one
#: gets werkzeug's 413, answered as a problem by the kit's nameko installer.
MAX_BODY_BYTES = 64 * 1024


def json_response(model: BaseModel, status: int = 200, **headers: str) -> Response:
    return Response(
        model.model_dump_json(),
        status=status,
        mimetype="application/json",
        headers=headers,
    )


def model_body(request: Request, model: type[M]) -> M:
    """A JSON body validated against ``model``; an empty body means all defaults (a
    refused body raises ``PayloadError``, which the installer answers as a 400/422)."""
    request.max_content_length = MAX_BODY_BYTES
    raw = request.get_data(cache=False)
    if not raw.strip():
        return model()
    require_json(request.mimetype)
    return parse_model(model, raw)
