"""The inference service's ASGI application: factory, lifespan, routes, error rendering.

Nothing is created at import time: ``create_app`` builds the app; its lifespan builds the
runtime (database, registry loader, batcher, messaging) and tears it down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.exceptions import HTTPException as StarletteHTTPException

from contracts.events.envelope import is_traceparent, new_traceparent
from contracts.features import transform_many
from contracts.monitoring import Health, Readiness
from contracts.payloads import PayloadError, parse_transactions
from contracts.predictions import Prediction, PredictionBatch, PredictionRecord
from contracts.problems import PROBLEM_CONTENT_TYPE, Problem, problem_type
from extracted_services.inference.batcher import BatcherStopped, QueueFull
from extracted_services.inference.deps import RuntimeDep
from extracted_services.inference.errors import (
    HTTP_SLUGS,
    HTTP_TITLES,
    InferenceError,
    InvalidRequest,
    NoModelServing,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    ServiceStopping,
)
from extracted_services.inference.logs import current_traceparent
from extracted_services.inference.runtime import Runtime
from extracted_services.inference.scorer import ScoreJob
from extracted_services.inference.settings import SERVICE_NAME, Settings

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024
_PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_CONTENT_TYPE: {}}}
    for status in (400, 404, 409, 413, 415, 422, 503)
}

#: Builds the messaging side for a runtime (set by ``messaging.py``; None: no broker).
MessagingFactory = Callable[[Runtime], Awaitable[Any]]


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> Response:
    return Response(
        content=Problem.model_validate(problem).model_dump_json(exclude_none=True),
        status_code=problem.status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )


def _install_error_handlers(app: FastAPI) -> None:
    async def inference_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, InferenceError)
        return problem_response(exc.to_problem(request.url.path), exc.headers())

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        status = exc.status_code
        problem = Problem(
            type=problem_type(HTTP_SLUGS.get(status, "http-error")),
            title=HTTP_TITLES.get(status, str(exc.detail)),
            status=status,
            detail=str(exc.detail),
            instance=request.url.path,
        )
        return problem_response(problem, dict(exc.headers or {}))

    async def unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        problem = Problem(
            type=problem_type("internal"),
            title="Internal error",
            status=500,
            detail="The server failed to handle the request; it has been logged.",
            instance=request.url.path,
        )
        return problem_response(problem)

    app.add_exception_handler(InferenceError, inference_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


async def _json_body(request: Request) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
    mimetype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise InvalidRequest(
            f"send the body as application/json (got {mimetype or 'no content type'!r})",
            status=415,
            slug="unsupported-media-type",
            title="Unsupported media type",
        )
    return raw


def _register_routes(app: FastAPI) -> None:
    @app.post(
        "/api/v1/predictions",
        response_model=Prediction | PredictionBatch,
        responses=_PROBLEMS,
        summary="Score one transaction or a batch, with explanations",
    )
    async def post_predictions(request: Request, runtime: RuntimeDep) -> Response:
        started = time.perf_counter()
        header = request.headers.get("traceparent")
        traceparent = header if is_traceparent(header) else new_traceparent()
        current_traceparent.set(traceparent)
        raw = await _json_body(request)
        try:
            parsed = parse_transactions(raw)
        except PayloadError as exc:
            raise InvalidRequest.from_payload_error(exc) from exc
        if runtime.holder.current is None:
            reason = runtime.model_error or "no model has been loaded"
            raise NoModelServing(f"{reason}; promote a model in the registry first")
        job = ScoreJob(parsed.transactions, transform_many(parsed.transactions), traceparent)
        try:
            entries = await runtime.batcher.submit(job)
        except QueueFull as exc:
            runtime.metrics.overloaded.inc()
            raise Overloaded(
                f"too many requests are waiting to be scored ({exc}); retry shortly",
                runtime.settings.retry_after_s,
            ) from exc
        except BatcherStopped as exc:
            raise ServiceStopping(str(exc)) from exc
        except NoModelServing:
            raise
        if parsed.is_batch:
            body = PredictionBatch(predictions=[e.prediction for e in entries]).model_dump_json()
        else:
            body = entries[0].prediction.model_dump_json()
        runtime.metrics.request_seconds.observe(time.perf_counter() - started)
        return Response(content=body, media_type="application/json")

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
    _install_error_handlers(app)
    _register_routes(app)
    return app
