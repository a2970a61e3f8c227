"""The ingestion service's exceptions: all of them the kit's shared ones
(``service_runtime.problems``), with the monolith's bodies for the same request.

    ServiceError              (service_runtime.problems)
    ├── InvalidRequest        400/422 (malformed JSON, validation)
    │   ├── PayloadTooLarge   413 (Werkzeug's words, as the monolith answers)
    │   └── UnsupportedMediaType 415
    ├── Conflict              409 (idempotency conflict: same id, different body)
    └── ServiceUnavailable    503 + Retry-After (the event broker is down too long, or the
                              outbox is full)

``service_runtime.problems_fastapi`` renders them, Starlette's own HTTP errors (404, 405)
and anything unexpected (500, logged, nothing leaked) as problems; the raw-ASGI path of
``endpoint.py`` renders the same ones with ``service_runtime.problems.problem_json``.
"""

from __future__ import annotations

from service_runtime.problems import (
    Conflict,
    InvalidRequest,
    PayloadTooLarge,
    ServiceError,
    ServiceUnavailable,
    UnsupportedMediaType,
)

__all__ = [
    "Conflict",
    "InvalidRequest",
    "PayloadTooLarge",
    "ServiceError",
    "ServiceUnavailable",
    "UnsupportedMediaType",
]
