"""The typed client of the public API v1 (httpx; sync and async).

Every consumer in the kit (load generator, ``kit`` command, demo, graders) talks to the
API through it, and the HTTP pacts in ``contracts/pacts/`` record its expectations. Answers
come back as contract models; every error comes back as an exception from
``contracts.client.errors`` that carries the provider's RFC 9457 problem.
"""

from contracts.client._async import AsyncApiClient
from contracts.client._sync import ApiClient
from contracts.client.errors import (
    ApiError,
    Conflict,
    MalformedRequest,
    MethodNotAllowed,
    NoModel,
    NotEnoughData,
    NotFound,
    PayloadTooLarge,
    ProblemError,
    ResponseContractError,
    ServerError,
    TransportError,
    UnexpectedResponse,
    UnsupportedMediaType,
    ValidationFailed,
)

__all__ = [
    "ApiClient",
    "ApiError",
    "AsyncApiClient",
    "Conflict",
    "MalformedRequest",
    "MethodNotAllowed",
    "NoModel",
    "NotEnoughData",
    "NotFound",
    "PayloadTooLarge",
    "ProblemError",
    "ResponseContractError",
    "ServerError",
    "TransportError",
    "UnexpectedResponse",
    "UnsupportedMediaType",
    "ValidationFailed",
]
