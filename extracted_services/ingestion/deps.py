"""FastAPI dependencies, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from extracted_services.ingestion.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    """Async on purpose: FastAPI runs a sync dependency on its thread pool, one hop per call."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
