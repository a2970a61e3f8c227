"""The inference service's exceptions, on the kit's one problem type
(``service_runtime.problems``).

    ServiceError              (service_runtime.problems)
    ├── InvalidRequest        400/422 (malformed JSON, validation)
    │   ├── PayloadTooLarge   413
    │   └── UnsupportedMediaType 415
    ├── NotFound              404 (unknown prediction id)
    ├── NoModelServing        409 (no model loaded yet; same answer as the monolith)
    └── ServiceUnavailable    503 + Retry-After: 1 (shutting down; the request was not scored)
        └── Overloaded        503 + Retry-After (the batching queue is full)

    ModelRejected             not an HTTP error: a version that failed its load or check;
                              it is refused, logged and counted, and the old one serves.

Bodies and status codes match the monolith's for the same mistake, so a client (and the
proxy's shadow comparison) cannot tell which side answered.
"""

from __future__ import annotations

from service_runtime.problems import (
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    ServiceError,
    ServiceUnavailable,
    UnsupportedMediaType,
)

__all__ = [
    "InvalidRequest",
    "ModelRejected",
    "NoModelServing",
    "NotFound",
    "Overloaded",
    "PayloadTooLarge",
    "ServiceError",
    "ServiceUnavailable",
    "UnsupportedMediaType",
]


class NoModelServing(ServiceError):
    status = 409
    slug = "no-model"
    title = "No model is serving"


class Overloaded(ServiceUnavailable):
    slug = "overloaded"
    title = "Service overloaded"


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
