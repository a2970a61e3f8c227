"""Raw ASGI for the fast paths (the proxy's hot path, ingestion's and inference's one hot
route each): read a bounded body, send an answer, answer an error as problem+json.

Why raw ASGI at all: on these paths FastAPI's and Starlette's layers cost as much CPU as the
work itself (``docs/performance.md``). Why here: the services' fast paths and the proxy had
each written these few lines again, and an error must read the same whichever door it
leaves by: a :class:`~service_runtime.problems.ServiceError` is its problem with its headers,
anything else is logged and answered with the 500 the installers answer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from service_runtime.problems import (
    PROBLEM_CONTENT_TYPE_BYTES,
    ServiceError,
    header_pairs,
    internal_problem,
    problem_json,
)

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BodyTooLarge(Exception):
    """The body grew past the limit while it was read (each path says so in its words)."""


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body, or :class:`BodyTooLarge` as soon as it passes ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def send_response(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Send a complete answer: status, content type and length, ``extra`` headers, body."""
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if extra:
        headers += extra
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_problem(send: Send, error: BaseException, instance: str | None = None) -> None:
    """Answer ``error`` as problem+json: a ``ServiceError`` with its own headers; anything
    else is logged with its traceback and answered 500, leaking nothing."""
    if isinstance(error, ServiceError):
        status, body = error.status, problem_json(error.problem(instance))
        extra = header_pairs(error.headers) if error.headers else None
    else:
        logger.error("unhandled error on %s", instance, exc_info=error)
        status, body, extra = 500, problem_json(internal_problem(instance)), None
    await send_response(send, status, body, PROBLEM_CONTENT_TYPE_BYTES, extra)
