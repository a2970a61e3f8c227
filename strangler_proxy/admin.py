"""The admin API under ``/_admin`` (operator role): table, history, apply, revert, live state.

A FastAPI app of its own with its own OpenAPI document at ``/_admin/openapi.json``; the
proxy's hot path never goes through it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request

from contracts.problems import Problem
from contracts.proxy_admin.models import (
    ActionOut,
    DifferenceOut,
    ExplainOut,
    ExplainStepOut,
    LiveTableOut,
    MismatchOut,
    RouteStateOut,
    StateOut,
    TableVersionOut,
    UpstreamStateOut,
    ValidationOut,
)
from service_runtime.problems_fastapi import install_problem_handlers
from strangler_proxy.auth import TokenVerifier
from strangler_proxy.deps import ActionReader, Operator, Runtime, RuntimeDep
from strangler_proxy.errors import NotFound
from strangler_proxy.resilience import BreakerState
from strangler_proxy.route_table.lint import lint_table
from strangler_proxy.route_table.loader import dump_table, parse_table
from strangler_proxy.table_store import TableVersion

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid bearer token", "model": Problem},
    403: {"description": "Token without the operator role", "model": Problem},
}
_YAML_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


def _version_out(entry: TableVersion) -> TableVersionOut:
    return TableVersionOut(
        version=entry.version,
        applied_by=entry.applied_by,
        applied_at=entry.applied_at,
        origin=entry.origin,
        diff=list(entry.diff),
        reverted_to=entry.reverted_to,
    )


def _live_out(entry: TableVersion) -> LiveTableOut:
    return LiveTableOut(
        **_version_out(entry).model_dump(),
        table=entry.table.model_dump(mode="json"),
        yaml=dump_table(entry.table),
    )


async def _table_text(request: Request) -> str:
    raw = await request.body()
    return raw.decode("utf-8", errors="replace")  # JSON is YAML: one parser for both


def create_admin_app(runtime: Runtime) -> FastAPI:
    """The admin sub-app; mounted by the proxy for paths under ``/_admin``."""
    app = FastAPI(
        title="Strangler proxy admin API",
        version="1",
        description="Operate the route table of a live proxy (operator role required).",
        openapi_url="/_admin/openapi.json",
        docs_url="/_admin/docs",
        redoc_url=None,
    )
    app.state.runtime = runtime
    install_problem_handlers(app)

    @app.get(
        "/_admin/routes",
        response_model=LiveTableOut,
        responses=_PROBLEMS,
        summary="The live route table and its version",
    )
    def current(runtime: RuntimeDep, _: Operator) -> LiveTableOut:
        live = runtime.store.live
        if live is None:
            raise NotFound("no route table has been applied yet")
        return _live_out(live.entry)

    @app.post(
        "/_admin/routes",
        response_model=LiveTableOut,
        openapi_extra=_YAML_BODY,
        responses={**_PROBLEMS, 422: {"description": "Table rejected", "model": Problem}},
        summary="Validate and apply a new route table (YAML or JSON body)",
    )
    async def apply(request: Request, runtime: RuntimeDep, claims: Operator) -> LiveTableOut:
        text = await _table_text(request)
        entry = runtime.store.apply_text(
            text, applied_by=TokenVerifier.subject(claims), origin="admin", source="request body"
        )
        return _live_out(entry)

    @app.post(
        "/_admin/routes/validate",
        response_model=ValidationOut,
        openapi_extra=_YAML_BODY,
        responses={**_PROBLEMS, 422: {"description": "Table invalid", "model": Problem}},
        summary="Validate a table without applying it",
    )
    async def validate(request: Request, _: Operator) -> ValidationOut:
        table = parse_table(await _table_text(request), "request body")
        return ValidationOut(warnings=[str(i) for i in lint_table(table, "request body")])

    @app.get(
        "/_admin/routes/history",
        response_model=list[TableVersionOut],
        responses=_PROBLEMS,
        summary="Applied versions, newest last: who, when, diff",
    )
    def history(runtime: RuntimeDep, _: Operator) -> list[TableVersionOut]:
        return [_version_out(e) for e in runtime.store.history]

    @app.post(
        "/_admin/routes/revert",
        response_model=LiveTableOut,
        responses={**_PROBLEMS, 409: {"description": "Nothing to revert", "model": Problem}},
        summary="Re-apply the version before the live one",
    )
    def revert(runtime: RuntimeDep, claims: Operator) -> LiveTableOut:
        return _live_out(runtime.store.revert(TokenVerifier.subject(claims)))

    @app.get(
        "/_admin/routes/state",
        response_model=StateOut,
        responses=_PROBLEMS,
        summary="Per-route live state: weights, windows, rollback, shadow results",
    )
    def state(runtime: RuntimeDep, _: Operator) -> StateOut:
        live = runtime.store.live
        if live is None:
            return StateOut(
                version=None, routes=[], upstreams=[], shadow_queue_depth=runtime.shadow.depth
            )
        routes = [RouteStateOut.model_validate(s.snapshot()) for s in live.states.values()]
        upstreams = [
            UpstreamStateOut(
                name=c.name,
                url=c.base_url,
                breaker=BreakerState(c.breaker.state).name.lower(),
                consecutive_failures=c.breaker.consecutive_failures,
                retry_tokens=round(c.budget.tokens, 2),
            )
            for c in live.clients.values()
        ]
        return StateOut(
            version=live.entry.version,
            routes=routes,
            upstreams=upstreams,
            shadow_queue_depth=runtime.shadow.depth,
        )

    @app.get(
        "/_admin/routes/{name}/mismatches",
        response_model=list[MismatchOut],
        responses={**_PROBLEMS, 404: {"description": "Unknown route", "model": Problem}},
        summary="The last shadow mismatches of a route, with both bodies",
    )
    def mismatches(
        name: str,
        runtime: RuntimeDep,
        _: Operator,
        limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    ) -> list[MismatchOut]:
        live = runtime.store.live
        state = live.states.get(name) if live is not None else None
        if state is None:
            raise NotFound(f"no route named '{name}' in the live table")
        samples = list(state.samples)[-limit:]
        return [
            MismatchOut(
                at=datetime.fromtimestamp(s.at, UTC),
                method=s.method,
                target=s.target,
                primary_status=s.primary_status,
                candidate_status=s.candidate_status,
                primary_body=s.primary_body,
                candidate_body=s.candidate_body,
                differences=[
                    DifferenceOut(
                        path=d.path, primary=d.primary, candidate=d.candidate, reason=d.reason
                    )
                    for d in s.differences
                ],
            )
            for s in samples
        ]

    @app.get(
        "/_admin/audit",
        response_model=list[ActionOut],
        responses=_PROBLEMS,
        summary="The action log, oldest first: who changed what at the edge, and when",
    )
    def audit(
        runtime: RuntimeDep,
        _: ActionReader,
        kind: str | None = None,
        after: Annotated[int, Query(ge=0, description="Only entries with a larger id")] = 0,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    ) -> list[ActionOut]:
        entries = runtime.actions.entries(kind=kind, after=after, limit=limit)
        return [ActionOut.model_validate(e) for e in entries]

    @app.get(
        "/_admin/explain",
        response_model=ExplainOut,
        responses=_PROBLEMS,
        summary="Which route and upstream would serve a request, and why",
    )
    def explain(
        runtime: RuntimeDep,
        _: Operator,
        method: str,
        path: str,
        header: Annotated[list[str] | None, Query()] = None,
    ) -> ExplainOut:
        live = runtime.store.live
        if live is None:
            raise NotFound("no route table has been applied yet")
        pairs = []
        for item in header or []:
            key, _sep, value = item.partition(":")
            pairs.append((key.strip().lower().encode("latin-1"), value.strip().encode("latin-1")))
        target, _q, query = path.partition("?")
        result = live.router.explain(method, target, pairs, query.encode("latin-1"))
        return ExplainOut(
            route=result.route,
            mode=result.mode,
            upstreams=result.upstreams,
            steps=[
                ExplainStepOut(route=s.route, matched=s.matched, reason=s.reason)
                for s in result.steps
            ],
        )

    return app
