"""``python -m migration_playbook.tools.chaos``: a deliberately faulty candidate build.

It forwards to a real service (``CHAOS_TARGET``) but answers a share of the requests
(``CHAOS_ERROR_RATE``) with a 500, the way a broken release would. The demo and the fault
tests point a canary at it to show the proxy's and the kit's automatic rollback; it is
workshop tooling and never part of a real route table.
"""

from __future__ import annotations

import os
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contracts.problems import PROBLEM_CONTENT_TYPE, Problem, problem_type

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


def create_app(target: str, error_rate: float, seed: int | None = None) -> Starlette:
    """A forwarding app that fails ``error_rate`` of the public API requests."""
    if not 0.0 <= error_rate <= 1.0:
        raise ValueError("CHAOS_ERROR_RATE must be between 0 and 1")
    chance = random.Random(seed)
    client: dict[str, httpx.AsyncClient] = {}

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        client["http"] = httpx.AsyncClient(base_url=target, timeout=10.0)
        yield
        await client["http"].aclose()

    async def forward(request: Request) -> Response:
        path = request.url.path
        if path.startswith("/api/") and chance.random() < error_rate:
            problem = Problem(
                type=problem_type("internal"),
                title="Injected fault",
                status=500,
                detail="the chaos candidate failed this request on purpose",
            )
            return JSONResponse(problem.to_body(), 500, media_type=PROBLEM_CONTENT_TYPE)
        upstream = await client["http"].request(
            request.method,
            path,
            params=request.query_params,
            content=await request.body(),
            headers={k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP},
        )
        headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
        return Response(upstream.content, upstream.status_code, headers=headers)

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
    return Starlette(routes=[Route("/{path:path}", forward, methods=methods)], lifespan=lifespan)


def main() -> None:
    target = os.environ.get("CHAOS_TARGET", "http://127.0.0.1:8102")
    rate = float(os.environ.get("CHAOS_ERROR_RATE", "0.5"))
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8199"))
    uvicorn.run(create_app(target, rate), host=host, port=port, log_level="warning")


if __name__ == "__main__":
    main()
