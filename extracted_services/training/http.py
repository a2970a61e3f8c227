"""The HTTP side of the worker: request parsing and problem+json rendering for nameko's
werkzeug-based ``@http`` entrypoints (the same bodies the monolith answers with)."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from werkzeug.wrappers import Request, Response

from contracts.payloads import PayloadError, parse_model
from contracts.problems import PROBLEM_CONTENT_TYPE, Problem, problem_type
from extracted_services.training.errors import InvalidRequest, TrainingError

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


def json_response(model: BaseModel, status: int = 200, **headers: str) -> Response:
    return Response(
        model.model_dump_json(),
        status=status,
        mimetype="application/json",
        headers=headers,
    )


def problem_response(problem: Problem) -> Response:
    return Response(
        json.dumps(problem.to_body()), status=problem.status, content_type=PROBLEM_CONTENT_TYPE
    )


def model_body(request: Request, model: type[M]) -> M:
    """A JSON body validated against ``model``; an empty body means all defaults."""
    raw = request.get_data(cache=False)
    if not raw.strip():
        return model()
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise InvalidRequest(
            f"send the body as application/json (got {mimetype or 'no content type'!r})",
            status=415,
            slug="unsupported-media-type",
            title="Unsupported media type",
        )
    try:
        return parse_model(model, raw)
    except PayloadError as exc:
        raise InvalidRequest.from_payload_error(exc) from exc


def problems(fn: Callable[..., Response]) -> Callable[..., Response]:
    """Render a ``TrainingError`` as its problem, anything else as a logged, opaque 500."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return fn(*args, **kwargs)
        except TrainingError as exc:
            return problem_response(exc.problem())
        except Exception:  # noqa: BLE001 - logged here, never leaked to the client
            logger.exception("%s failed", fn.__name__)
            return problem_response(
                Problem(
                    type=problem_type("internal"),
                    title="Internal error",
                    status=500,
                    detail="an unexpected error occurred; it has been logged",
                )
            )

    return wrapper
