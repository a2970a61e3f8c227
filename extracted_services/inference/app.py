"""The inference service's ASGI application: factory, lifespan, routes.

Nothing is created at import time: ``create_app`` builds the app; its lifespan builds the
runtime (database, registry loader, batcher, messaging) and tears it down.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST

from contracts.dry_run import DRY_RUN_VALUE
from contracts.monitoring import Health, Readiness
from contracts.predictions import Prediction, PredictionBatch, PredictionRecord
from extracted_services.inference.deps import RuntimeDep
from extracted_services.inference.endpoint import (
    DRY_RUN_HEADER,
    PATH,
    FastPredictions,
    check_length,
    is_dry_run,
    predict,
)
from extracted_services.inference.errors import NotFound
from extracted_services.inference.runtime import Runtime
from extracted_services.inference.settings import SERVICE_NAME, Settings
from service_runtime.logging import configure_logging
from service_runtime.problems_fastapi import install_problem_handlers, openapi_problems

logger = logging.getLogger(__name__)

_PROBLEMS = openapi_problems(400, 404, 409, 413, 415, 422, 503)

#: Builds the messaging side for a runtime (set by ``messaging.py``; None: no broker).
MessagingFactory = Callable[[Runtime], Awaitable[Any]]


def _register_routes(app: FastAPI) -> None:
    @app.post(
        PATH,
        response_model=Prediction | PredictionBatch,
        responses=_PROBLEMS,
        summary="Score one transaction or a batch, with explanations",
    )
    async def post_predictions(request: Request, runtime: RuntimeDep) -> Response:
        # Served by ``endpoint.FastPredictions`` in the running service; this route
        # documents the operation and serves test clients, through the same function.
        check_length(request.headers.get("content-length"))
        dry_run = is_dry_run(request.headers.get(DRY_RUN_HEADER))
        body = await predict(
            runtime,
            await request.body(),
            request.headers.get("content-type"),
            request.headers.get("traceparent"),
            dry_run=dry_run,
        )
        headers = {DRY_RUN_HEADER: DRY_RUN_VALUE} if dry_run else None
        return Response(content=body, media_type="application/json", headers=headers)

    @app.get(
        "/api/v1/predictions/{prediction_id}",
        response_model=PredictionRecord,
        responses=_PROBLEMS,
        summary="The audit record of one decision",
    )
    async def get_prediction(prediction_id: str, runtime: RuntimeDep) -> Response:
        record = await run_in_threadpool(runtime.db.get, prediction_id)
        if record is None:
            raise NotFound(f"prediction {prediction_id!r} does not exist")
        return Response(content=record.model_dump_json(), media_type="application/json")

    @app.get("/healthz", response_model=Health)
    async def healthz() -> Health:
        return Health(service=SERVICE_NAME)

    @app.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
    async def readyz(runtime: RuntimeDep) -> Response:
        model = runtime.holder.current
        checks = {
            "model": "ok" if model is not None else (runtime.model_error or "not loaded"),
            "database": "ok" if await run_in_threadpool(runtime.db.reachable) else "unreachable",
            "broker": runtime.broker_status(),
        }
        ready = all(value in ("ok", "disabled") for value in checks.values())
        body = Readiness(
            status="ready" if ready else "not_ready",
            service=SERVICE_NAME,
            checks=checks,
            model_version=model.version if model else None,
        )
        return Response(
            content=body.model_dump_json(),
            status_code=200 if ready else 503,
            media_type="application/json",
        )

    @app.get("/metrics", response_class=Response)
    async def metrics(runtime: RuntimeDep) -> Response:
        runtime.metrics.queue_depth.set(runtime.batcher.depth)
        return Response(content=runtime.metrics.render(), media_type=CONTENT_TYPE_LATEST)


def serve_app() -> FastPredictions:
    """What the ASGI server runs: the service with its fast scoring path, configured from
    the environment (the factory every uvicorn worker process calls)."""
    settings = Settings()
    # The event loop, the scoring thread and the audit thread hand the GIL to each other
    # for every batch; the default 5 ms switch interval turns each hand-off into a stall.
    sys.setswitchinterval(settings.switch_interval_ms / 1000.0)
    configure_logging(settings.log_level, SERVICE_NAME, json_lines=settings.log_json)
    return FastPredictions(create_app(settings))


def create_app(
    settings: Settings | None = None, messaging: MessagingFactory | None = None
) -> FastAPI:
    """Build the service; ``messaging`` overrides how the broker side is built (tests)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings)
        app.state.runtime = runtime
        await runtime.start()
        bus = None
        if settings.messaging_enabled:
            factory = messaging
            if factory is None:
                from extracted_services.inference.messaging import start_messaging

                factory = start_messaging
            bus = await factory(runtime)
        try:
            yield
        finally:
            # Drain first (in-flight batches commit their audit and outbox rows), then let
            # the relay publish what it can, then close the rest.
            await runtime.batcher.stop()
            if bus is not None:
                await bus.stop()
            await runtime.stop()

    app = FastAPI(
        title="inference",
        version="1",
        summary="Scores transactions with the registry's model; owns the prediction audit.",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    _register_routes(app)
    return app
