"""The training service's exceptions and their RFC 9457 problems (the monolith's bodies for
the same requests).

    TrainingError
    ├── InvalidRequest   400/415/422 (malformed JSON, media type, validation)
    ├── NotFound         404 (no such run, no such version, nothing serves yet)
    ├── NotEnoughData    409 (too few labelled transactions to train)
    └── RegistryUnavailable 503 (the MLflow server did not answer)
"""

from __future__ import annotations

from contracts.payloads import PayloadError
from contracts.problems import FieldError, Problem, problem_type


class TrainingError(Exception):
    status = 500
    slug = "internal"
    title = "Internal error"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors

    def problem(self) -> Problem:
        return Problem(
            type=problem_type(self.slug),
            title=self.title,
            status=self.status,
            detail=self.detail,
            errors=self.errors,
        )


class InvalidRequest(TrainingError):
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


class NotFound(TrainingError):
    status = 404
    slug = "not-found"
    title = "Not found"


class NotEnoughData(TrainingError):
    status = 409
    slug = "not-enough-data"
    title = "Not enough labelled data"


class RegistryUnavailable(TrainingError):
    status = 503
    slug = "registry-unavailable"
    title = "Model registry unavailable"
