"""The monolith's exceptions, on the kit's one problem type (``service_runtime.problems``).

    ServiceError              (service_runtime.problems)
    ├── InvalidRequest        400/415/422 (malformed JSON, media type, validation)
    ├── NotFound              404 (unknown id or version)
    ├── Conflict              409 (idempotency conflict)
    ├── NoModelServing        409 (scoring before any model is trained)
    └── NotEnoughData         409 (training without enough labelled rows)

``service_runtime.problems_flask`` renders them, Werkzeug's own HTTP errors and anything
unexpected (a logged 500 that leaks nothing) as ``application/problem+json``.
"""

from __future__ import annotations

from service_runtime.problems import Conflict, InvalidRequest, NotFound, ServiceError

__all__ = ["Conflict", "InvalidRequest", "NoModelServing", "NotEnoughData", "NotFound"]


class NoModelServing(ServiceError):
    status = 409
    slug = "no-model"
    title = "No model is serving"


class NotEnoughData(ServiceError):
    status = 409
    slug = "not-enough-data"
    title = "Not enough labelled data"
