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
from typing import Any

from contracts.dry_run import DRY_RUN_HEADER, DRY_RUN_VALUE, is_dry_run
from contracts.events import is_traceparent
from contracts.payloads import PayloadError, parse_transactions
from contracts.transactions import IngestReceipt
from extracted_services.ingestion.domain import ingest
from extracted_services.ingestion.errors import (
    InvalidRequest,
    PayloadTooLarge,
    ServiceError,
    ServiceUnavailable,
)
from extracted_services.ingestion.runtime import Runtime
from service_runtime.asgi import (
    BodyTooLarge,
    Receive,
    Scope,
    Send,
    read_body,
    send_problem,
    send_response,
)
from service_runtime.logging import bind_traceparent, unbind_traceparent
from service_runtime.problems import require_json

PATH = "/api/v1/transactions"
_DRY_RUN = DRY_RUN_HEADER.lower().encode()


def check_length(content_length: str | None, limit: int) -> None:
    if content_length is not None and content_length.isdigit() and int(content_length) > limit:
        raise PayloadTooLarge()


async def ingest_body(
    runtime: Runtime,
    raw: bytes,
    content_type: str | None,
    traceparent: str | None,
    *,
    dry_run: bool = False,
) -> IngestReceipt:
    """Store the body's transaction(s); the receipt, or a ``ServiceError``. ``dry_run``
    (``contracts.dry_run``): the same checks and receipt, nothing stored, nothing published,
    not counted."""
    metrics = runtime.metrics
    try:
        if len(raw) > runtime.settings.max_body_bytes:
            raise PayloadTooLarge()
        require_json(content_type)
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
                dry_run=dry_run,
            ),
        )
    except ServiceError as exc:
        metrics.rejected.labels(str(exc.status)).inc()
        raise
    if dry_run:
        metrics.dry_runs.inc(len(outcome.receipt.results))
        return outcome.receipt
    if outcome.message is not None:
        # Published from memory now; the row stays in the outbox until it is confirmed.
        runtime.messaging.relay.hand_over([outcome.message])
    metrics.accepted.inc(outcome.receipt.accepted)
    metrics.duplicates.inc(outcome.receipt.duplicates)
    return outcome.receipt


class FastTransactions:
    """ASGI: ``POST /api/v1/transactions`` straight to :func:`ingest_body`; every other
    request (and the lifespan) to the wrapped FastAPI application, with the request's
    trace id bound for its log lines."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {}
        for name, value in scope["headers"]:
            if name in (b"content-type", b"content-length", b"traceparent", _DRY_RUN):
                headers[name] = value.decode("latin-1")
        token = bind_traceparent(headers.get(b"traceparent"))
        try:
            if scope["path"] == PATH and scope["method"] == "POST":
                await self._ingest(headers, receive, send)
            else:
                await self.app(scope, receive, send)
        finally:
            unbind_traceparent(token)

    async def _ingest(self, headers: dict[bytes, str], receive: Receive, send: Send) -> None:
        runtime: Runtime = self.app.state.runtime
        limit = runtime.settings.max_body_bytes
        try:
            check_length(headers.get(b"content-length"), limit)
            try:
                raw = await read_body(receive, limit)
            except BodyTooLarge:
                raise PayloadTooLarge() from None
            dry_run = is_dry_run(headers.get(_DRY_RUN))
            receipt = await ingest_body(
                runtime,
                raw,
                headers.get(b"content-type"),
                headers.get(b"traceparent"),
                dry_run=dry_run,
            )
        except Exception as exc:  # noqa: BLE001 - answered as a problem, never a traceback
            await send_problem(send, exc, PATH)
            return
        extra = [(_DRY_RUN, DRY_RUN_VALUE.encode())] if dry_run else None
        await send_response(
            send, 202, receipt.model_dump_json().encode(), b"application/json", extra
        )
