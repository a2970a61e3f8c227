"""The part of the Flask and nameko installers that is Werkzeug's: its responses and its
own HTTP errors as problems.

Both frameworks answer with Werkzeug responses and raise Werkzeug's ``HTTPException`` for
an unknown path, a wrong method or a body over the limit; one rendering serves both, so a
404 from the monolith and one from a nameko worker read the same.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from contracts.problems import PROBLEM_CONTENT_TYPE, Problem
from service_runtime.problems import http_problem


def problem_response(
    problem: Problem,
    headers: Mapping[str, str] | None = None,
    response_class: type[Response] = Response,
) -> Response:
    """A response carrying ``problem`` as ``application/problem+json`` (``response_class``:
    the framework's own, e.g. ``flask.Response``)."""
    response = response_class(
        json.dumps(problem.to_body()), status=problem.status, mimetype=PROBLEM_CONTENT_TYPE
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def http_error_problem(exc: HTTPException, instance: str | None) -> tuple[Problem, dict[str, str]]:
    """The problem of one of Werkzeug's HTTP errors, with Werkzeug's title and description,
    and its headers (the ``Allow`` of a 405)."""
    status = exc.code or 500
    problem = http_problem(status, exc.name, exc.description or exc.name, instance)
    headers = {}
    if status == 405 and (allow := exc.get_response().headers.get("Allow")):
        headers["Allow"] = allow
    return problem, headers
