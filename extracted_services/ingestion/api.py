"""The HTTP surface: ``POST /api/v1/transactions`` and the operational endpoints."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from contracts.events import is_traceparent
from contracts.monitoring import Health, Readiness
from contracts.payloads import PayloadError, parse_transactions
from contracts.problems import Problem
from contracts.transactions import IngestReceipt
from extracted_services.ingestion.deps import RuntimeDep
from extracted_services.ingestion.domain import ingest
from extracted_services.ingestion.errors import IngestionError, InvalidRequest, ServiceUnavailable
from extracted_services.ingestion.messaging import SERVICE_NAME

router = APIRouter()
_PROBLEMS: dict[int | str, dict[str, object]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}}
    for code in (400, 409, 413, 415, 422, 503)
}


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, or the monolith's 413 as soon as it is known to exceed ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise InvalidRequest.too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InvalidRequest.too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _require_json(request: Request) -> None:
    mimetype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise InvalidRequest.media_type(mimetype)


@router.post(
    "/api/v1/transactions",
    status_code=202,
    response_model=IngestReceipt,
    responses=_PROBLEMS,
    summary="Ingest one transaction or a batch (idempotent on transaction_id)",
)
async def post_transactions(request: Request, runtime: RuntimeDep) -> IngestReceipt:
    metrics = runtime.metrics
    try:
        raw = await _read_body(request, runtime.settings.max_body_bytes)
        _require_json(request)
        parsed = parse_transactions(raw)
        if (reason := runtime.messaging.refusal()) is not None:
            raise ServiceUnavailable(reason)
        header = request.headers.get("traceparent")
        traceparent = header if is_traceparent(header) else None
        outcome = await run_in_threadpool(
            ingest,
            runtime.db,
            runtime.messaging.outbox,
            parsed.transactions,
            traceparent=traceparent,
        )
    except PayloadError as exc:
        metrics.rejected.labels(str(exc.status)).inc()
        raise
    except IngestionError as exc:
        metrics.rejected.labels(str(exc.status)).inc()
        raise
    if outcome.message is not None:
        # Published from memory now; the row stays in the outbox until it is confirmed.
        runtime.messaging.relay.hand_over([outcome.message])
    metrics.accepted.inc(outcome.receipt.accepted)
    metrics.duplicates.inc(outcome.receipt.duplicates)
    return outcome.receipt


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    return Health(service=SERVICE_NAME)


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(runtime: RuntimeDep, response: Response) -> Readiness:
    """Ready when the database answers and the publisher holds a broker connection."""
    db_ok = await asyncio.to_thread(runtime.db.reachable)
    publisher = runtime.messaging.publisher
    checks = {
        "database": "ok" if db_ok else "unreachable",
        "broker": "ok" if publisher.connected else f"unreachable: {publisher.last_error}",
        "outbox": f"ok ({runtime.messaging.relay.depth} pending)",
    }
    ready = all(v.startswith("ok") for v in checks.values())
    response.status_code = 200 if ready else 503
    return Readiness(status="ready" if ready else "not_ready", service=SERVICE_NAME, checks=checks)


@router.get("/metrics", response_class=Response)
async def metrics(runtime: RuntimeDep) -> Response:
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)
