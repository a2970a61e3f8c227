"""``POST /api/v1/transactions``: the ingestion path, as one function and a raw ASGI route.

:func:`ingest_body` is the whole request: size and media type, parsing and validation,
the refusal when the broker is away, the idempotent store with its outbox row (on the
service's one writer thread), and the hand-over of the event to the relay. FastAPI's route
(``api.py``) documents the operation and serves test clients through it;
:class:`FastTransactions` wraps the FastAPI application and takes this one path straight
from the ASGI server. Why: FastAPI's middleware, dependency solving and its thread-pool
hops cost several times the work of storing one transaction (profiled with py-spy; figures
in ``docs/performance.md``). Both doors answer the same status, body and problems.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from contracts.events import is_traceparent
from contracts.payloads import PayloadError, parse_transactions
from contracts.problems import PROBLEM_CONTENT_TYPE, Problem, problem_type
from contracts.transactions import IngestReceipt
from extracted_services.ingestion.domain import ingest
from extracted_services.ingestion.errors import IngestionError, InvalidRequest, ServiceUnavailable
from extracted_services.ingestion.observability import trace_id_of, trace_id_var
from extracted_services.ingestion.runtime import Runtime

logger = logging.getLogger(__name__)

PATH = "/api/v1/transactions"


def check_length(content_length: str | None, limit: int) -> None:
    if content_length is not None and content_length.isdigit() and int(content_length) > limit:
        raise InvalidRequest.too_large()


def check_media_type(content_type: str | None) -> None:
    mimetype = (content_type or "").split(";", 1)[0].strip().lower()
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise InvalidRequest.media_type(mimetype)


async def ingest_body(
    runtime: Runtime, raw: bytes, content_type: str | None, traceparent: str | None
) -> IngestReceipt:
    """Store the body's transaction(s); the receipt, or an :class:`IngestionError`."""
    metrics = runtime.metrics
    try:
        if len(raw) > runtime.settings.max_body_bytes:
            raise InvalidRequest.too_large()
        check_media_type(content_type)
        try:
            parsed = parse_transactions(raw)
        except PayloadError as exc:
            raise InvalidRequest.from_payload_error(exc) from exc
        if (reason := runtime.messaging.refusal()) is not None:
            raise ServiceUnavailable(reason)
        outcome = await asyncio.get_running_loop().run_in_executor(
            runtime.writer,
            lambda: ingest(
                runtime.db,
                runtime.messaging.outbox,
                parsed.transactions,
                traceparent=traceparent if is_traceparent(traceparent) else None,
            ),
        )
    except IngestionError as exc:
        metrics.rejected.labels(str(exc.status)).inc()
        raise
    if outcome.message is not None:
        # Published from memory now; the row stays in the outbox until it is confirmed.
        runtime.messaging.relay.hand_over([outcome.message])
    metrics.accepted.inc(outcome.receipt.accepted)
    metrics.duplicates.inc(outcome.receipt.duplicates)
    return outcome.receipt


def problem_of(exc: IngestionError, instance: str) -> Problem:
    return Problem(
        type=problem_type(exc.slug),
        title=exc.title,
        status=exc.status,
        detail=exc.detail,
        instance=instance,
        errors=exc.errors,
    )


class _TooLarge(Exception):
    pass


async def _read_body(receive: Any, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class FastTransactions:
    """ASGI: ``POST /api/v1/transactions`` straight to :func:`ingest_body`; every other
    request (and the lifespan) to the wrapped FastAPI application, with the request's
    trace id bound for its log lines."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {}
        for name, value in scope["headers"]:
            if name in (b"content-type", b"content-length", b"traceparent"):
                headers[name] = value.decode("latin-1")
        token = trace_id_var.set(trace_id_of(headers.get(b"traceparent")))
        try:
            if scope["path"] == PATH and scope["method"] == "POST":
                await self._ingest(headers, receive, send)
            else:
                await self.app(scope, receive, send)
        finally:
            trace_id_var.reset(token)

    async def _ingest(self, headers: dict[bytes, str], receive: Any, send: Any) -> None:
        runtime: Runtime = self.app.state.runtime
        limit = runtime.settings.max_body_bytes
        status, extra = 202, []
        try:
            check_length(headers.get(b"content-length"), limit)
            try:
                raw = await _read_body(receive, limit)
            except _TooLarge:
                raise InvalidRequest.too_large() from None
            receipt = await ingest_body(
                runtime, raw, headers.get(b"content-type"), headers.get(b"traceparent")
            )
            body, content_type = receipt.model_dump_json().encode(), b"application/json"
        except IngestionError as exc:
            status = exc.status
            body = problem_of(exc, PATH).model_dump_json(exclude_none=True).encode()
            content_type = PROBLEM_CONTENT_TYPE.encode()
            extra = [(k.lower().encode(), v.encode()) for k, v in exc.headers().items()]
        except Exception:  # noqa: BLE001 - answered as a problem, never a traceback
            logger.exception("unhandled error on POST %s", PATH)
            status = 500
            problem = Problem(
                type=problem_type("internal"),
                title="Internal error",
                status=500,
                detail="The server failed to handle the request; it has been logged.",
                instance=PATH,
            )
            body = problem.model_dump_json(exclude_none=True).encode()
            content_type = PROBLEM_CONTENT_TYPE.encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", content_type),
                    (b"content-length", str(len(body)).encode()),
                    *extra,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
