"""The inference service's exceptions and the table that renders them as RFC 9457 problems.

    InferenceError
    ├── InvalidRequest        400/415/422 (malformed JSON, media type, validation)
    ├── PayloadTooLarge       413
    ├── NotFound              404 (unknown prediction id)
    ├── NoModelServing        409 (no model loaded yet; same answer as the monolith)
    ├── Overloaded            503 + Retry-After (the batching queue is full)
    └── ServiceStopping       503 (shutting down; the request was not scored)

    ModelRejected             not an HTTP error: a version that failed its load or check;
                              it is refused, logged and counted, and the old one serves.

Bodies and status codes match the monolith's for the same mistake, so a client (and the
proxy's shadow comparison) cannot tell which side answered.
"""

from __future__ import annotations

from contracts.payloads import PayloadError
from contracts.problems import FieldError, Problem, problem_type


class InferenceError(Exception):
    """Base of every error the service answers with a problem document."""

    status = 500
    slug = "internal"
    title = "Internal error"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors

    def headers(self) -> dict[str, str]:
        return {}

    def to_problem(self, instance: str | None = None) -> Problem:
        return Problem(
            type=problem_type(self.slug),
            title=self.title,
            status=self.status,
            detail=self.detail,
            instance=instance,
            errors=self.errors,
        )


class InvalidRequest(InferenceError):
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


class PayloadTooLarge(InferenceError):
    status = 413
    slug = "payload-too-large"
    title = "Request Entity Too Large"


class NotFound(InferenceError):
    status = 404
    slug = "not-found"
    title = "Not found"


class NoModelServing(InferenceError):
    status = 409
    slug = "no-model"
    title = "No model is serving"


class Overloaded(InferenceError):
    status = 503
    slug = "overloaded"
    title = "Service overloaded"

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class ServiceStopping(InferenceError):
    status = 503
    slug = "unavailable"
    title = "Service unavailable"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


class ModelRejected(Exception):
    """A model version that must not serve: why, and which URI/version it was."""

    def __init__(
        self, uri: str, reason: str, *, version: str | None = None, transient: bool = False
    ) -> None:
        super().__init__(reason)
        self.uri = uri
        self.reason = reason
        self.version = version
        #: True when the registry could not be asked (retry later), not a verdict on the model.
        self.transient = transient


#: Starlette's own HTTP errors (unknown path, wrong method) as the monolith names them.
HTTP_SLUGS = {
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    415: "unsupported-media-type",
}
HTTP_TITLES = {404: "Not Found", 405: "Method Not Allowed", 413: "Request Entity Too Large"}
