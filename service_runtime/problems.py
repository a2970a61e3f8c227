"""The one exception type every deployable answers with, and the errors they all share.

A :class:`ServiceError` carries what its problem document says (status, slug, title,
detail, field errors) and the headers that go with it (``Retry-After``,
``WWW-Authenticate``). The installers (``problems_fastapi``, ``problems_flask``,
``problems_nameko``) render it; the raw-ASGI fast paths render it with
:func:`problem_json`. Why one type: the monolith and the services must answer the same
mistake with the same body (contract tests and the proxy's shadow comparison compare them),
which five hand-kept copies of this class did not guarantee.

::

    ServiceError                 500 internal (subclassed by every deployable)
    ├── InvalidRequest           422 validation, 400 malformed-json
    │   ├── UnsupportedMediaType 415
    │   └── PayloadTooLarge      413
    ├── NotFound                 404
    ├── Conflict                 409
    └── ServiceUnavailable       503 + Retry-After
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

from contracts.payloads import PayloadError
from contracts.problems import PROBLEM_CONTENT_TYPE, FieldError, Problem, problem_type

#: The content type as raw-ASGI code sends it.
PROBLEM_CONTENT_TYPE_BYTES = PROBLEM_CONTENT_TYPE.encode()

#: The framework's own HTTP errors (unknown path, wrong method, ...), named as the monolith
#: (Werkzeug under Flask) names them; any other status is ``http-error``.
HTTP_SLUGS: Mapping[int, str] = MappingProxyType(
    {
        404: "not-found",
        405: "method-not-allowed",
        413: "payload-too-large",
        415: "unsupported-media-type",
    }
)

#: What a 500 says: that something failed and was logged, nothing about what.
INTERNAL_DETAIL = "The server failed to handle the request; it has been logged."

_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


class ServiceError(Exception):
    """Base of every error a deployable answers with a problem document.

    Subclasses set ``status``, ``slug`` and ``title``; an instance may override them (one
    class for the 400 and 422 of a body, say) and carry ``headers`` for the answer.
    """

    status: int = 500
    slug: str = "internal"
    title: str = "Internal error"

    def __init__(
        self,
        detail: str,
        errors: list[FieldError] | None = None,
        *,
        status: int | None = None,
        slug: str | None = None,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        # Instance attributes shadow the class's defaults only when given.
        if status is not None:
            self.status = status
        if slug is not None:
            self.slug = slug
        if title is not None:
            self.title = title
        self.headers: Mapping[str, str] = headers if headers is not None else _NO_HEADERS

    def problem(self, instance: str | None = None) -> Problem:
        """The problem document of this error (``instance``: the request's path)."""
        return Problem(
            type=problem_type(self.slug),
            title=self.title,
            status=self.status,
            detail=self.detail,
            instance=instance,
            errors=self.errors,
        )


class InvalidRequest(ServiceError):
    """The request as sent cannot be handled: bad JSON (400) or invalid input (422)."""

    status = 422
    slug = "validation"
    title = "Request validation failed"

    @classmethod
    def from_payload_error(cls, exc: PayloadError) -> InvalidRequest:
        """The problem of a body ``contracts.payloads`` refused (its words, its errors)."""
        slug = "malformed-json" if exc.status == 400 else "validation"
        return cls(exc.detail, exc.errors or None, status=exc.status, slug=slug, title=exc.title)


class UnsupportedMediaType(InvalidRequest):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"

    def __init__(self, mimetype: str) -> None:
        got = mimetype or "no content type"
        super().__init__(f"send the body as application/json (got {got!r})")


class PayloadTooLarge(InvalidRequest):
    status = 413
    slug = "payload-too-large"
    title = "Request Entity Too Large"

    #: Werkzeug's words, so that a service answers as the monolith (Flask) does.
    WERKZEUG_DETAIL: ClassVar[str] = "The data value transmitted exceeds the capacity limit."

    def __init__(self, detail: str = WERKZEUG_DETAIL) -> None:
        super().__init__(detail)


class NotFound(ServiceError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(ServiceError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class ServiceUnavailable(ServiceError):
    """Not now: the client may retry after ``retry_after_s`` (sent as ``Retry-After``)."""

    status = 503
    slug = "unavailable"
    title = "Service unavailable"

    def __init__(self, detail: str, retry_after_s: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)})
        self.retry_after_s = retry_after_s


def require_json(content_type: str | None) -> None:
    """Refuse (415) a body that is not ``application/json`` or ``*+json``; takes the raw
    ``Content-Type`` header or an already parsed mimetype."""
    mimetype = (content_type or "").split(";", 1)[0].strip().lower()
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType(mimetype)


def internal_problem(instance: str | None = None) -> Problem:
    """The 500 of an unexpected error: says it was logged, leaks nothing."""
    return Problem(
        type=problem_type("internal"),
        title="Internal error",
        status=500,
        detail=INTERNAL_DETAIL,
        instance=instance,
    )


def http_problem(status: int, title: str, detail: str, instance: str | None) -> Problem:
    """The problem of one of the framework's own HTTP errors (404, 405, 413, 415, ...)."""
    return Problem(
        type=problem_type(HTTP_SLUGS.get(status, "http-error")),
        title=title,
        status=status,
        detail=detail,
        instance=instance,
    )


def problem_json(problem: Problem) -> bytes:
    """The compact JSON body of ``problem`` (raw-ASGI paths; what the installers send)."""
    return problem.model_dump_json(exclude_none=True).encode()


def header_pairs(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    """``headers`` as raw-ASGI header pairs (lower-case names)."""
    return [(name.lower().encode(), value.encode("latin-1")) for name, value in headers.items()]
