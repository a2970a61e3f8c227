"""Problem+json for a FastAPI application: one call installs every handler.

- a :class:`~service_runtime.problems.ServiceError`: its problem, its headers;
- a ``contracts.payloads.PayloadError``: the 400/422 the monolith answers for that body;
- a ``RequestValidationError`` (FastAPI's own query/path/body checks): 422 ``validation``
  with one field error per input, worded as ``contracts.payloads`` words body errors;
- Starlette's own HTTP errors (unknown path, wrong method with its ``Allow``): named as
  the monolith names them (``service_runtime.problems.HTTP_SLUGS``);
- anything else: logged with its traceback, answered 500 ``internal``, nothing leaked.

Every problem's ``instance`` is the request's path.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from contracts.payloads import PayloadError, invalid
from contracts.problems import PROBLEM_CONTENT_TYPE, FieldError, Problem, validation_field_path
from service_runtime.problems import InvalidRequest, ServiceError, http_problem, internal_problem

logger = logging.getLogger(__name__)


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    """A response carrying ``problem`` as ``application/problem+json``."""
    return JSONResponse(
        problem.to_body(),
        status_code=problem.status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )


def openapi_problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A route's ``responses=``: each status documented as a ``Problem`` in
    ``application/problem+json`` (the OpenAPI document says what the handlers answer)."""
    return {
        status: {"model": Problem, "content": {PROBLEM_CONTENT_TYPE: {}}} for status in statuses
    }


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "HTTP error"


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return problem_response(exc.problem(request.url.path), dict(exc.headers))


async def _payload_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PayloadError)
    return await _service_error(request, InvalidRequest.from_payload_error(exc))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldError(field=validation_field_path(tuple(e["loc"])), message=str(e["msg"]))
        for e in exc.errors()
    ]
    return await _payload_error(request, invalid(errors))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    problem = http_problem(status, _phrase(status), str(exc.detail), request.url.path)
    return problem_response(problem, dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(internal_problem(request.url.path))


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` an ``application/problem+json`` answer."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(PayloadError, _payload_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
