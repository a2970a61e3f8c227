"""Problem+json for nameko's HTTP entrypoint: use this module's :func:`http` for every
``@http`` of a service, in place of ``nameko.web.handlers.http``.

nameko answers a failing entrypoint with a plain-text ``Error: ValueError: ...`` and a 500
(the exception's text leaked to the client), and an unknown path with Werkzeug's HTML page.
Here:

- an entrypoint's :class:`~service_runtime.problems.ServiceError`: its problem, its
  headers; a ``contracts.payloads.PayloadError``: 400/422 as the monolith answers it;
  Werkzeug's ``HTTPException``: as ``problems_werkzeug`` names it;
- anything else the entrypoint raises: logged with its traceback, 500 ``internal``;
- routing's own errors (unknown path, wrong method with ``Allow``): problems too, from the
  web server this entrypoint brings (:class:`ProblemWebServer`);
- the request's ``traceparent`` is bound for the worker's log lines.

The rendering happens inside the worker (a wrapper around the entrypoint's function), where
the request is known, so every problem carries ``instance``; nameko sees a worker that
returned a response. All ``@http`` entrypoints of one service must come from here: nameko
shares one web server per class of server, and two classes would bind the port twice.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from contracts.payloads import PayloadError
from service_runtime.logging import bind_traceparent, unbind_traceparent
from service_runtime.problems import InvalidRequest, ServiceError, internal_problem
from service_runtime.problems_werkzeug import http_error_problem, problem_response

logger = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def render(request: Request, exc: ServiceError | PayloadError | HTTPException) -> Response:
    """The problem+json answer to ``exc`` raised while handling ``request``."""
    if isinstance(exc, PayloadError):
        exc = InvalidRequest.from_payload_error(exc)
    if isinstance(exc, ServiceError):
        return problem_response(exc.problem(request.path), exc.headers)
    return problem_response(*http_error_problem(exc, request.path))


class _ProblemWsgiApp(WsgiApp):  # type: ignore[misc]
    """nameko's WSGI app, with routing's own errors answered as problems."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values  # type: ignore[attr-defined]  # nameko reads it
            response = provider.handle_request(request)
        except HTTPException as exc:
            response = render(request, exc)
        return response(environ, start_response)


class ProblemWebServer(WebServer):  # type: ignore[misc]
    """nameko's web server with :class:`_ProblemWsgiApp`."""

    def get_wsgi_app(self) -> WsgiApp:
        return _ProblemWsgiApp(self)


class ProblemHttpRequestHandler(HttpRequestHandler):  # type: ignore[misc]
    """nameko's ``@http`` entrypoint on :class:`ProblemWebServer`; a failure outside the
    worker (nameko's own signature check, say) is a logged 500 problem, not plain text."""

    server = ProblemWebServer()

    def response_from_exception(self, exc: Exception) -> Response:
        logger.error("entrypoint %s failed: %s", self.method_name, exc, exc_info=exc)
        return problem_response(internal_problem())


def _rendering_problems(fn: F) -> F:
    @functools.wraps(fn)
    def entrypoint(service: Any, request: Request, *args: Any, **kwargs: Any) -> Any:
        token = bind_traceparent(request.headers.get("traceparent"))
        try:
            return fn(service, request, *args, **kwargs)
        except (ServiceError, PayloadError, HTTPException) as exc:
            return render(request, exc)
        except Exception:  # noqa: BLE001 - logged here, never leaked to the client
            logger.exception("unhandled error on %s %s", request.method, request.path)
            return problem_response(internal_problem(request.path))
        finally:
            unbind_traceparent(token)

    return cast(F, entrypoint)


def http(method: str, url: str, **kwargs: Any) -> Callable[[F], F]:
    """``@http(method, url)`` as nameko's, answering every error as problem+json."""

    def decorate(fn: F) -> F:
        register = ProblemHttpRequestHandler.decorator(method, url, **kwargs)
        return cast(F, register(_rendering_problems(fn)))

    return decorate
