"""``POST /api/v1/predictions``: the scoring path, as one function and a raw ASGI route.

:func:`predict` is the whole request: media type, parsing and validation, the batcher,
the answer's JSON. Two doors lead to it. FastAPI's route (``app.py``) documents the
operation in the service's OpenAPI document and serves it under test clients;
:class:`FastPredictions` wraps the FastAPI application and takes this one path straight
from the ASGI server. Why: under load, the FastAPI and Starlette layers (middlewares,
routing, dependency solving, request and response objects) cost about as much CPU per
request as parsing, scoring, auditing and publishing the decision together (profiled with
py-spy; figures in ``docs/performance.md``). Both doors answer the same bytes and the same
problem documents.
"""

from __future__ import annotations

import time
from typing import Any

from contracts import dry_run as dry_run_contract
from contracts.events.envelope import is_traceparent, new_traceparent
from contracts.features import transform_many
from contracts.payloads import PayloadError, parse_transactions
from contracts.predictions import PredictionBatch
from extracted_services.inference.batcher import BatcherStopped, QueueFull
from extracted_services.inference.errors import (
    InvalidRequest,
    NoModelServing,
    Overloaded,
    PayloadTooLarge,
    ServiceUnavailable,
)
from extracted_services.inference.runtime import Runtime
from extracted_services.inference.scorer import ScoreJob
from service_runtime.asgi import (
    BodyTooLarge,
    Receive,
    Scope,
    Send,
    read_body,
    send_problem,
    send_response,
)
from service_runtime.logging import current_traceparent
from service_runtime.problems import require_json

PATH = "/api/v1/predictions"
MAX_BODY_BYTES = 4 * 1024 * 1024
_JSON = b"application/json"
#: The dry-run contract (``contracts.dry_run``): a request with this header set to ``true``
#: is scored and answered, and leaves no trace (no audit row, no event, not counted by
#: monitoring); the answer carries the same header to say it was honoured.
DRY_RUN_HEADER = dry_run_contract.DRY_RUN_HEADER.lower()
is_dry_run = dry_run_contract.is_dry_run
_DRY_RUN = DRY_RUN_HEADER.encode()


def check_length(content_length: str | None) -> None:
    """Refuse a declared body over the limit before reading it."""
    if content_length is not None and content_length.isdigit():
        if int(content_length) > MAX_BODY_BYTES:
            raise PayloadTooLarge()


async def predict(
    runtime: Runtime,
    raw: bytes,
    content_type: str | None,
    traceparent: str | None,
    *,
    dry_run: bool = False,
) -> bytes:
    """Score the body's transaction(s); the answer's JSON, or a ``ServiceError``."""
    started = time.perf_counter()
    current_traceparent.set(traceparent if is_traceparent(traceparent) else new_traceparent())
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge()
    require_json(content_type)
    try:
        parsed = parse_transactions(raw)
    except PayloadError as exc:
        raise InvalidRequest.from_payload_error(exc) from exc
    if runtime.holder.current is None:
        reason = runtime.model_error or "no model has been loaded"
        raise NoModelServing(f"{reason}; promote a model in the registry first")
    job = ScoreJob(
        parsed.transactions,
        transform_many(parsed.transactions),
        current_traceparent.get(),
        dry_run=dry_run,
    )
    try:
        entries = await runtime.batcher.submit(job)
    except QueueFull as exc:
        runtime.metrics.overloaded.inc()
        raise Overloaded(
            f"too many requests are waiting to be scored ({exc}); retry shortly",
            runtime.settings.retry_after_s,
        ) from exc
    except BatcherStopped as exc:
        raise ServiceUnavailable(str(exc), retry_after_s=1) from exc
    if parsed.is_batch:
        body = PredictionBatch(predictions=[e.prediction for e in entries]).model_dump_json()
    else:
        body = entries[0].prediction.model_dump_json()
    runtime.metrics.request_seconds.observe(time.perf_counter() - started)
    return body.encode()


class FastPredictions:
    """ASGI: ``POST /api/v1/predictions`` straight to :func:`predict`; all else to ``app``.

    The runtime is the one the wrapped application's lifespan built (``app.state``), so
    lifespan events pass through unchanged.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = {}
        for name, value in scope["headers"]:
            if name in (b"content-type", b"content-length", b"traceparent", _DRY_RUN):
                headers[name] = value.decode("latin-1")
        dry_run = is_dry_run(headers.get(_DRY_RUN))
        try:
            check_length(headers.get(b"content-length"))
            try:
                raw = await read_body(receive, MAX_BODY_BYTES)
            except BodyTooLarge:
                raise PayloadTooLarge() from None
            body = await predict(
                self.app.state.runtime,
                raw,
                headers.get(b"content-type"),
                headers.get(b"traceparent"),
                dry_run=dry_run,
            )
        except Exception as exc:  # noqa: BLE001 - answered as a problem, never a traceback
            await send_problem(send, exc, PATH)
            return
        extra = (
            [(DRY_RUN_HEADER.encode(), dry_run_contract.DRY_RUN_VALUE.encode())]
            if dry_run
            else None
        )
        await send_response(send, 200, body, _JSON, extra)
