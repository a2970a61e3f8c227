"""Small raw-ASGI helpers shared by the hot path and the proxy's own endpoints."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from contracts.problems import PROBLEM_CONTENT_TYPE, Problem
from strangler_proxy.errors import ProxyError, problem_bytes

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_PROBLEM_CT = PROBLEM_CONTENT_TYPE.encode()


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


async def send_problem(
    send: Send,
    error: ProxyError | Problem,
    instance: str | None = None,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    problem = error.problem() if isinstance(error, ProxyError) else error
    if instance is not None:
        problem = problem.model_copy(update={"instance": instance})
    await send_bytes(send, problem.status, problem_bytes(problem), _PROBLEM_CT, extra)
