"""Small raw-ASGI helpers shared by the hot path and the proxy's own endpoints."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from service_runtime.problems import (
    PROBLEM_CONTENT_TYPE_BYTES,
    ServiceError,
    header_pairs,
    problem_json,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def send_bytes(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if extra:
        headers += extra
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_problem(send: Send, error: ServiceError, instance: str | None = None) -> None:
    """Answer ``error`` as problem+json, with the error's own headers."""
    body = problem_json(error.problem(instance))
    extra = header_pairs(error.headers) if error.headers else None
    await send_bytes(send, error.status, body, PROBLEM_CONTENT_TYPE_BYTES, extra)
