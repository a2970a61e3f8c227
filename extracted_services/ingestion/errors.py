"""The ingestion service's exceptions and their RFC 9457 problems (same bodies as the
monolith's for the same request).

    IngestionError
    ├── InvalidRequest        400/413/415/422 (malformed JSON, too large, media type, validation)
    ├── Conflict              409 (idempotency conflict: same id, different body)
    └── ServiceUnavailable    503 (the event broker is down too long, or the outbox is full)

Starlette's own HTTP errors (404, 405) and anything unexpected (500, logged, nothing
leaked) are rendered as problems too.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from contracts.payloads import PayloadError
from contracts.problems import PROBLEM_CONTENT_TYPE, FieldError, Problem, problem_type

logger = logging.getLogger(__name__)


class IngestionError(Exception):
    status = 500
    slug = "internal"
    title = "Internal error"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors

    def headers(self) -> dict[str, str]:
        return {}


class InvalidRequest(IngestionError):
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

    @classmethod
    def too_large(cls) -> InvalidRequest:
        # Werkzeug's words, so that the monolith and the service answer alike.
        return cls(
            "The data value transmitted exceeds the capacity limit.",
            status=413,
            slug="payload-too-large",
            title="Request Entity Too Large",
        )

    @classmethod
    def media_type(cls, got: str) -> InvalidRequest:
        return cls(
            f"send the body as application/json (got {got or 'no content type'!r})",
            status=415,
            slug="unsupported-media-type",
            title="Unsupported media type",
        )


class Conflict(IngestionError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class ServiceUnavailable(IngestionError):
    status = 503
    slug = "unavailable"
    title = "Service unavailable"

    def __init__(self, detail: str, retry_after_s: int = 5) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


_HTTP_SLUGS = {
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    415: "unsupported-media-type",
}


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        problem.to_body(),
        status_code=problem.status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Every error becomes ``application/problem+json``."""

    @app.exception_handler(IngestionError)
    async def _ingestion_error(request: Request, exc: IngestionError) -> JSONResponse:
        problem = Problem(
            type=problem_type(exc.slug),
            title=exc.title,
            status=exc.status,
            detail=exc.detail,
            instance=request.url.path,
            errors=exc.errors,
        )
        return problem_response(problem, exc.headers())

    @app.exception_handler(PayloadError)
    async def _payload_error(request: Request, exc: PayloadError) -> JSONResponse:
        return await _ingestion_error(request, InvalidRequest.from_payload_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        problem = Problem(
            type=problem_type(_HTTP_SLUGS.get(status, "http-error")),
            title=_title(status),
            status=status,
            detail=str(exc.detail),
            instance=request.url.path,
        )
        return problem_response(problem, dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            FieldError(field=".".join(str(p) for p in e["loc"]), message=str(e["msg"]))
            for e in exc.errors()
        ]
        return await _ingestion_error(request, InvalidRequest("invalid request", errors))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        problem = Problem(
            type=problem_type("internal"),
            title="Internal error",
            status=500,
            detail="The server failed to handle the request; it has been logged.",
            instance=request.url.path,
        )
        return problem_response(problem)


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "HTTP error"
