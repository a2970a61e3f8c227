"""FastAPI dependencies of the admin API: the runtime and the operator check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from strangler_proxy.audit import ActionLog
from strangler_proxy.auth import TokenVerifier
from strangler_proxy.errors import Forbidden
from strangler_proxy.metrics import ProxyMetrics
from strangler_proxy.settings import Settings
from strangler_proxy.shadow import ShadowDispatcher
from strangler_proxy.table_store import TableStore


@dataclass(frozen=True, slots=True)
class Runtime:
    """Everything the admin API operates on (one per proxy app)."""

    settings: Settings
    metrics: ProxyMetrics
    verifier: TokenVerifier | None
    store: TableStore
    shadow: ShadowDispatcher
    actions: ActionLog


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def _claims(request: Request, verifier: TokenVerifier) -> dict[str, Any]:
    """The verified claims of the request's bearer token (401 problem without one)."""
    authorization = request.headers.get("authorization")
    return verifier.verify_header(authorization.encode("latin-1") if authorization else None)


def require_operator(request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    """The caller's claims; 401 without a valid token, 403 without the operator role."""
    if runtime.verifier is None:
        return {"sub": "anonymous (auth disabled)"}
    claims = _claims(request, runtime.verifier)
    runtime.verifier.require_role(claims, runtime.settings.operator_role)
    return claims


Operator = Annotated[dict[str, Any], Depends(require_operator)]


def require_reader_of_actions(request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    """The caller's claims; the action log is for the operator and the auditor roles."""
    if runtime.verifier is None:
        return {"sub": "anonymous (auth disabled)"}
    claims = _claims(request, runtime.verifier)
    allowed = {runtime.settings.operator_role, runtime.settings.auditor_role}
    if allowed.isdisjoint(runtime.verifier.roles(claims)):
        names = " or ".join(f"'{r}'" for r in sorted(allowed))
        raise Forbidden(f"the action log needs the {names} role")
    return claims


ActionReader = Annotated[dict[str, Any], Depends(require_reader_of_actions)]
