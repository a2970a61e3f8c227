"""The ingestion service's application factory; nothing is opened at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from extracted_services.ingestion import api
from extracted_services.ingestion.endpoint import FastTransactions
from extracted_services.ingestion.runtime import Runtime
from extracted_services.ingestion.settings import Settings
from service_runtime.problems_fastapi import install_problem_handlers


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
    install_problem_handlers(app)
    app.include_router(api.router)
    return app


def serve_app(settings: Settings | None = None) -> FastTransactions:
    """What the ASGI server runs: the service with its direct ingestion path (which also
    binds each request's trace id for the log lines)."""
    return FastTransactions(create_app(settings))
