"""The ingestion service's application factory; nothing is opened at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from extracted_services.ingestion import api
from extracted_services.ingestion.errors import install_error_handlers
from extracted_services.ingestion.observability import trace_id_of, trace_id_var
from extracted_services.ingestion.runtime import Runtime
from extracted_services.ingestion.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the lifespan opens the database (schema included), the publisher
    and the outbox relay, and closes them on shutdown."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await Runtime.open(settings)
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(
        title="ingestion",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)

    @app.middleware("http")
    async def _trace(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        token = trace_id_var.set(trace_id_of(request.headers.get("traceparent")))
        try:
            return await call_next(request)
        finally:
            trace_id_var.reset(token)

    app.include_router(api.router)
    return app
