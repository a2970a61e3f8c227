"""The training service's exceptions, on the kit's one problem type
(``service_runtime.problems``), with the monolith's bodies for the same requests.

    ServiceError             (service_runtime.problems)
    ├── InvalidRequest       400/422 (malformed JSON, validation)
    │   └── UnsupportedMediaType 415
    ├── NotFound             404 (no such run, no such version, nothing serves yet)
    ├── NotEnoughData        409 (too few labelled transactions to train)
    └── RegistryUnavailable  503 (the MLflow server did not answer)
"""

from __future__ import annotations

from service_runtime.problems import InvalidRequest, NotFound, ServiceError, UnsupportedMediaType

__all__ = [
    "InvalidRequest",
    "NotEnoughData",
    "NotFound",
    "RegistryUnavailable",
    "ServiceError",
    "UnsupportedMediaType",
]


class NotEnoughData(ServiceError):
    status = 409
    slug = "not-enough-data"
    title = "Not enough labelled data"


class RegistryUnavailable(ServiceError):
    status = 503
    slug = "registry-unavailable"
    title = "Model registry unavailable"
