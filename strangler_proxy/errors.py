"""The proxy's exceptions, on the kit's one problem type (``service_runtime.problems``).

::

    ServiceError                      (service_runtime.problems)
    ├── NotFound                 404  unknown admin resource
    └── ProxyError
        ├── RouteTableError      422  the table is invalid (carries every issue found)
        ├── AuthError                 + WWW-Authenticate: Bearer realm="ai-migration-kit"
        │   ├── Unauthorized     401  no token, bad signature, expired, wrong audience
        │   └── Forbidden        403  valid token without the required role
        ├── NothingToRevert      409  no previous table version
        ├── MethodNotAllowed     405  TRACE, CONNECT
        ├── BadRequestFraming    400  a Content-Length that is no number
        ├── RequestTooLarge      413  a body over max_request_body_bytes
        └── UpstreamError             a remote failure, translated at the boundary
            ├── UpstreamTimeout      504
            ├── UpstreamUnavailable  502  connection refused/reset, or a 5xx answer
            └── CircuitOpen          503  the upstream's breaker is open

The hot path renders them with ``asgi.send_problem`` (raw ASGI, ``problem_json``), the
admin API with ``service_runtime.problems_fastapi``.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.problems import FieldError
from service_runtime.problems import NotFound, ServiceError

__all__ = [
    "AuthError",
    "BadRequestFraming",
    "MethodNotAllowed",
    "RequestTooLarge",
    "CircuitOpen",
    "Forbidden",
    "NotFound",
    "NothingToRevert",
    "ProxyError",
    "RouteTableError",
    "TableIssue",
    "Unauthorized",
    "UpstreamError",
    "UpstreamTimeout",
    "UpstreamUnavailable",
]

#: The challenge of every authentication failure (RFC 6750).
WWW_AUTHENTICATE = 'Bearer realm="ai-migration-kit"'


@dataclass(frozen=True, slots=True)
class TableIssue:
    """One thing wrong with a route table: where (file, route, field) and why."""

    file: str
    route: str | None
    field: str
    reason: str
    severity: str = "error"

    def __str__(self) -> str:
        where = self.file
        if self.route:
            where += f": route '{self.route}'"
        if self.field:
            where += f": {self.field}"
        return f"{where}: {self.reason}"


class ProxyError(ServiceError):
    """Base of the errors only the proxy raises."""

    status = 500
    slug = "proxy-error"
    title = "Proxy error"


class RouteTableError(ProxyError):
    status = 422
    slug = "invalid-route-table"
    title = "Route table rejected"

    def __init__(self, issues: list[TableIssue]) -> None:
        self.issues = issues
        count = len(issues)
        errors = [
            FieldError(
                field=(f"routes.{i.route}." if i.route else "") + (i.field or "table"),
                message=f"{i.file}: {i.reason}",
            )
            for i in issues
        ]
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in the route table; "
            "the live table keeps serving",
            errors,
        )


class AuthError(ProxyError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": WWW_AUTHENTICATE})


class Unauthorized(AuthError):
    status = 401
    slug = "unauthorized"
    title = "Authentication required"


class Forbidden(AuthError):
    status = 403
    slug = "forbidden"
    title = "Missing role"


class NothingToRevert(ProxyError):
    status = 409
    slug = "nothing-to-revert"
    title = "No previous route table"


class MethodNotAllowed(ProxyError):
    """TRACE and CONNECT: no upstream of the kit serves them, and TRACE echoes headers
    (credentials included) back to whoever can make a browser send it."""

    status = 405
    slug = "method-not-allowed"
    title = "Method not allowed"

    def __init__(self, method: str) -> None:
        super().__init__(
            f"{method} is not served through the proxy",
            headers={"Allow": "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"},
        )


class BadRequestFraming(ProxyError):
    status = 400
    slug = "bad-request-framing"
    title = "Malformed request"


class RequestTooLarge(ProxyError):
    status = 413
    slug = "request-too-large"
    title = "Request body too large"


class UpstreamError(ProxyError):
    """A failure talking to an upstream; ``upstream`` names it."""

    def __init__(self, upstream: str, detail: str) -> None:
        self.upstream = upstream
        super().__init__(f"upstream '{upstream}': {detail}")


class UpstreamTimeout(UpstreamError):
    status = 504
    slug = "upstream-timeout"
    title = "Upstream timed out"


class UpstreamUnavailable(UpstreamError):
    status = 502
    slug = "upstream-unavailable"
    title = "Upstream failed"


class CircuitOpen(UpstreamError):
    status = 503
    slug = "circuit-open"
    title = "Upstream circuit open"
