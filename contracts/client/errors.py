"""What the API client raises: every remote error is translated here into a typed exception.

    ApiError
    ├── TransportError           the request never got an answer (connect, timeout, ...)
    ├── UnexpectedResponse       an answer the contract does not allow
    │   └── ResponseContractError   a declared status whose body breaks its model
    └── ProblemError             an RFC 9457 problem; ``.problem`` holds it
        ├── MalformedRequest        400 malformed-json
        ├── NotFound                404 not-found
        ├── MethodNotAllowed        405 method-not-allowed
        ├── Conflict                409 conflict
        │   ├── NoModel             409 no-model
        │   └── NotEnoughData       409 not-enough-data
        ├── PayloadTooLarge         413 payload-too-large
        ├── UnsupportedMediaType    415 unsupported-media-type
        ├── ValidationFailed        422 validation (``.errors``: the field errors)
        └── ServerError             5xx (internal, or a gateway's error)

A problem is mapped by its ``type`` first (so ``NoModel`` and ``NotEnoughData`` are told
apart though both are 409) and by status when the type is unknown. A non-problem error
body (e.g. a plain 502 from a gateway) still becomes a ``ProblemError`` with a problem
made up from the status, so callers handle one kind of error.
"""

from __future__ import annotations

from http import HTTPStatus

from contracts.problems import PROBLEM_TYPE_BASE, FieldError, Problem


class ApiError(Exception):
    """Base of everything the client raises."""


class TransportError(ApiError):
    """The request got no HTTP answer (refused, reset, timed out)."""


class UnexpectedResponse(ApiError):
    """An answer the contract does not declare for this operation."""

    def __init__(self, message: str, status: int, body: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class ResponseContractError(UnexpectedResponse):
    """A declared status whose body does not validate against the contract's model."""


class ProblemError(ApiError):
    """The provider answered with an RFC 9457 problem."""

    def __init__(self, problem: Problem) -> None:
        detail = f": {problem.detail}" if problem.detail else ""
        super().__init__(f"{problem.status} {problem.title}{detail}")
        self.problem = problem

    @property
    def status(self) -> int:
        return self.problem.status

    @property
    def slug(self) -> str:
        """The last part of the problem type (``validation``, ``no-model``, ...)."""
        if self.problem.type.startswith(PROBLEM_TYPE_BASE):
            return self.problem.type[len(PROBLEM_TYPE_BASE) :]
        return self.problem.type


class MalformedRequest(ProblemError):
    """400: the body was not JSON."""


class NotFound(ProblemError):
    """404: no such resource."""


class MethodNotAllowed(ProblemError):
    """405: the path exists, the method does not."""


class Conflict(ProblemError):
    """409: the request conflicts with the provider's state."""


class NoModel(Conflict):
    """409 no-model: nothing serves predictions yet."""


class NotEnoughData(Conflict):
    """409 not-enough-data: too few labelled transactions to train."""


class PayloadTooLarge(ProblemError):
    """413: the body is over the provider's limit."""


class UnsupportedMediaType(ProblemError):
    """415: the body was not ``application/json``."""


class ValidationFailed(ProblemError):
    """422: the body or a parameter breaks the contract."""

    @property
    def errors(self) -> list[FieldError]:
        return list(self.problem.errors or [])


class ServerError(ProblemError):
    """5xx: the provider (or a gateway in front of it) failed."""


_BY_SLUG: dict[str, type[ProblemError]] = {
    "malformed-json": MalformedRequest,
    "not-found": NotFound,
    "method-not-allowed": MethodNotAllowed,
    "conflict": Conflict,
    "no-model": NoModel,
    "not-enough-data": NotEnoughData,
    "payload-too-large": PayloadTooLarge,
    "unsupported-media-type": UnsupportedMediaType,
    "validation": ValidationFailed,
    "internal": ServerError,
}
_BY_STATUS: dict[int, type[ProblemError]] = {
    400: MalformedRequest,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: ValidationFailed,
}


def error_for(problem: Problem) -> ProblemError:
    """The typed exception for a problem (by type, then by status)."""
    cls = None
    if problem.type.startswith(PROBLEM_TYPE_BASE):
        cls = _BY_SLUG.get(problem.type[len(PROBLEM_TYPE_BASE) :])
    if cls is None:
        cls = _BY_STATUS.get(problem.status)
    if cls is None:
        cls = ServerError if problem.status >= 500 else ProblemError
    return cls(problem)


def problem_from_status(status: int, text: str) -> Problem:
    """A problem for an error answer that did not carry one (e.g. a gateway's 502 page)."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    return Problem(title=title, status=status, detail=text.strip()[:500])
