"""The HTTP surface: ``POST /api/v1/transactions`` and the operational endpoints."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from contracts.dry_run import DRY_RUN_HEADER, DRY_RUN_VALUE, is_dry_run
from contracts.monitoring import Health, Readiness
from contracts.transactions import IngestReceipt
from extracted_services.ingestion.deps import RuntimeDep
from extracted_services.ingestion.endpoint import PATH, check_length, ingest_body
from extracted_services.ingestion.messaging import SERVICE_NAME
from service_runtime.problems_fastapi import openapi_problems

router = APIRouter()
_PROBLEMS = openapi_problems(400, 409, 413, 415, 422, 503)


@router.post(
    PATH,
    status_code=202,
    response_model=IngestReceipt,
    responses=_PROBLEMS,
    summary="Ingest one transaction or a batch (idempotent on transaction_id)",
)
async def post_transactions(
    request: Request, response: Response, runtime: RuntimeDep
) -> IngestReceipt:
    # Served by ``endpoint.FastTransactions`` in the running service; this route documents
    # the operation and serves test clients, through the same function.
    check_length(request.headers.get("content-length"), runtime.settings.max_body_bytes)
    dry_run = is_dry_run(request.headers.get(DRY_RUN_HEADER))
    receipt = await ingest_body(
        runtime,
        await request.body(),
        request.headers.get("content-type"),
        request.headers.get("traceparent"),
        dry_run=dry_run,
    )
    if dry_run:
        response.headers[DRY_RUN_HEADER] = DRY_RUN_VALUE
    return receipt


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
