"""The monolith's exceptions and how each becomes an RFC 9457 problem.

    MonolithError
    ├── InvalidRequest        400/415/422 (malformed JSON, wrong media type, validation)
    ├── NotFound              404 (unknown id or version)
    ├── Conflict              409 (idempotency conflict)
    ├── NoModelServing        409 (scoring before any model is trained)
    └── NotEnoughData         409 (training without enough labelled rows)

Handlers turn every error, including Werkzeug's own HTTP errors and anything unexpected,
into ``application/problem+json``; an unexpected error is logged with its traceback and
answered with a 500 that leaks nothing.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from contracts.payloads import PayloadError
from contracts.problems import PROBLEM_CONTENT_TYPE, FieldError, Problem, problem_type

logger = logging.getLogger(__name__)


class MonolithError(Exception):
    """Base of every error the monolith answers with a problem."""

    status = 500
    slug = "internal"
    title = "Internal error"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors

    def to_problem(self) -> Problem:
        return Problem(
            type=problem_type(self.slug),
            title=self.title,
            status=self.status,
            detail=self.detail,
            instance=request.path if request else None,
            errors=self.errors,
        )


class InvalidRequest(MonolithError):
    status = 422
    slug = "validation"
    title = "Request validation failed"

    def __init__(
        self,
        detail: str,
        errors: list[FieldError] | None = None,
        *,
        status: int = 422,
        slug: str = "validation",
        title: str = "Request validation failed",
    ) -> None:
        super().__init__(detail, errors)
        self.status, self.slug, self.title = status, slug, title

    @classmethod
    def from_payload_error(cls, exc: PayloadError) -> InvalidRequest:
        slug = "malformed-json" if exc.status == 400 else "validation"
        return cls(exc.detail, exc.errors or None, status=exc.status, slug=slug, title=exc.title)


class NotFound(MonolithError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(MonolithError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class NoModelServing(MonolithError):
    status = 409
    slug = "no-model"
    title = "No model is serving"


class NotEnoughData(MonolithError):
    status = 409
    slug = "not-enough-data"
    title = "Not enough labelled data"


_HTTP_SLUGS = {
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    415: "unsupported-media-type",
}


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> Response:
    """A Flask response carrying ``problem`` as problem+json."""
    response = Response(
        json.dumps(problem.to_body()), status=problem.status, mimetype=PROBLEM_CONTENT_TYPE
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    """Install the handlers that make every error a problem document."""

    @app.errorhandler(MonolithError)
    def _monolith_error(exc: MonolithError) -> Response:
        return problem_response(exc.to_problem())

    @app.errorhandler(PayloadError)
    def _payload_error(exc: PayloadError) -> Response:
        return problem_response(InvalidRequest.from_payload_error(exc).to_problem())

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        problem = Problem(
            type=problem_type(_HTTP_SLUGS.get(status, "http-error")),
            title=exc.name,
            status=status,
            detail=exc.description or exc.name,
            instance=request.path,
        )
        headers = {}
        if status == 405 and exc.get_response().headers.get("Allow"):
            headers["Allow"] = exc.get_response().headers["Allow"]
        return problem_response(problem, headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        problem = Problem(
            type=problem_type("internal"),
            title="Internal error",
            status=500,
            detail="The server failed to handle the request; it has been logged.",
            instance=request.path,
        )
        return problem_response(problem)
