"""Problem+json for a Flask application: one call installs every handler.

- a :class:`~service_runtime.problems.ServiceError`: its problem, its headers;
- a ``contracts.payloads.PayloadError``: 400 ``malformed-json`` or 422 ``validation``;
- Werkzeug's own HTTP errors (unknown path, wrong method with its ``Allow``, a body over
  ``MAX_CONTENT_LENGTH``): named by ``service_runtime.problems.HTTP_SLUGS``, with
  Werkzeug's title and description (``problems_werkzeug``);
- anything else: logged with its traceback, answered 500 ``internal``, nothing leaked.

Every problem's ``instance`` is the request's path.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from contracts.payloads import PayloadError
from contracts.problems import Problem
from service_runtime import problems_werkzeug
from service_runtime.problems import InvalidRequest, ServiceError, internal_problem

logger = logging.getLogger(__name__)


def problem_response(problem: Problem, headers: Mapping[str, str] | None = None) -> Response:
    """A Flask response carrying ``problem`` as ``application/problem+json``."""
    response = problems_werkzeug.problem_response(problem, headers, Response)
    assert isinstance(response, Response)
    return response


def _service_error(exc: ServiceError) -> Response:
    return problem_response(exc.problem(request.path), exc.headers)


def _payload_error(exc: PayloadError) -> Response:
    return _service_error(InvalidRequest.from_payload_error(exc))


def _http_error(exc: HTTPException) -> Response:
    return problem_response(*problems_werkzeug.http_error_problem(exc, request.path))


def _unexpected(exc: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.path)
    return problem_response(internal_problem(request.path))


def install_problem_handlers(app: Flask) -> None:
    """Make every error of ``app`` an ``application/problem+json`` answer."""
    app.register_error_handler(ServiceError, _service_error)
    app.register_error_handler(PayloadError, _payload_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
