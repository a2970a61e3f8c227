"""The proxy's exceptions and the one table that renders them as RFC 9457 problem+json.

::

    ProxyError
    ├── RouteTableError          422  the table is invalid (carries every issue found)
    ├── AuthError
    │   ├── Unauthorized         401  no token, bad signature, expired, wrong audience
    │   └── Forbidden            403  valid token without the required role
    ├── NotFound                 404  unknown admin resource
    ├── NothingToRevert          409  no previous table version
    └── UpstreamError                 a remote failure, translated at the boundary
        ├── UpstreamTimeout      504
        ├── UpstreamUnavailable  502  connection refused/reset, or a 5xx answer
        └── CircuitOpen          503  the upstream's breaker is open
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from contracts.problems import PROBLEM_CONTENT_TYPE, FieldError, Problem, problem_type


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


class ProxyError(Exception):
    """Base of every error the proxy raises on purpose."""

    status = 500
    slug = "proxy-error"
    title = "Proxy error"

    def problem(self) -> Problem:
        return Problem(
            type=problem_type(self.slug), title=self.title, status=self.status, detail=str(self)
        )


class RouteTableError(ProxyError):
    status = 422
    slug = "invalid-route-table"
    title = "Route table rejected"

    def __init__(self, issues: list[TableIssue]) -> None:
        self.issues = issues
        count = len(issues)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in the route table; "
            "the live table keeps serving"
        )

    def problem(self) -> Problem:
        errors = [
            FieldError(
                field=(f"routes.{i.route}." if i.route else "") + (i.field or "table"),
                message=f"{i.file}: {i.reason}",
            )
            for i in self.issues
        ]
        return Problem(
            type=problem_type(self.slug),
            title=self.title,
            status=self.status,
            detail=str(self),
            errors=errors,
        )


class AuthError(ProxyError):
    pass


class Unauthorized(AuthError):
    status = 401
    slug = "unauthorized"
    title = "Authentication required"


class Forbidden(AuthError):
    status = 403
    slug = "forbidden"
    title = "Missing role"


class NotFound(ProxyError):
    status = 404
    slug = "not-found"
    title = "Not found"


class NothingToRevert(ProxyError):
    status = 409
    slug = "nothing-to-revert"
    title = "No previous route table"


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


def problem_bytes(problem: Problem) -> bytes:
    """The serialized body of a problem document."""
    return json.dumps(problem.to_body(), separators=(",", ":")).encode()


PROBLEM_HEADERS_CT = PROBLEM_CONTENT_TYPE.encode()
