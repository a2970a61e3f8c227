"""The models of the strangler proxy's admin API: what crosses between the proxy and the
kit (or any operator tool). The proxy answers with them (its admin OpenAPI document is
generated from them); `ProxyAdminClient` reads its answers into them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field


class TableVersionOut(BaseModel):
    version: int
    applied_by: str
    applied_at: datetime
    origin: str = Field(description="admin, file, revert or startup")
    diff: list[str]
    reverted_to: int | None = None


class LiveTableOut(TableVersionOut):
    table: dict[str, Any]
    yaml: str


#: The kinds of entry in the proxy's action log.
ActionKind = Literal["table-applied", "table-rejected", "canary-rolled-back", "api-call"]
ACTION_KINDS: tuple[str, ...] = get_args(ActionKind)


class ActionOut(BaseModel):
    """One entry of the proxy's action log; the fields after ``actor`` depend on the kind
    (a table's version and diff, a rollback's threshold, a call's method, path and status)."""

    model_config = ConfigDict(extra="allow")

    id: int
    at: datetime
    kind: ActionKind
    actor: str = Field(description="The token's subject, or proxy:... for its own decisions")


class ValidationOut(BaseModel):
    valid: Literal[True] = True
    warnings: list[str]


class WindowOut(BaseModel):
    seconds: float
    requests: int
    errors: int
    error_rate: float
    p50_ms: float | None
    p99_ms: float | None


class RollbackOut(BaseModel):
    verdict: Literal["insufficient_data", "healthy", "rolled_back", "disabled"]
    reason: str | None = None
    window: WindowOut | None = None
    slo: dict[str, float] | None = None
    event: dict[str, Any] | None = None


class ShadowOut(BaseModel):
    comparisons: int
    mismatches: int
    errors: int
    dropped: int
    mismatch_rate: float | None
    decisions_compared: int
    decision_agreement_rate: float | None


class RouteStateOut(BaseModel):
    name: str
    mode: str
    primary: str
    candidate: str | None
    fallback: str | None
    #: Asked when the primary answers a read with 404 (the record may be on the other side).
    read_fallback: str | None = None
    served: dict[str, int]
    configured_weight: float | None = None
    effective_weight: float | None = None
    rollback: RollbackOut | None = None
    shadow: ShadowOut | None = None


class UpstreamStateOut(BaseModel):
    name: str
    url: str
    breaker: Literal["closed", "open", "half_open"]
    consecutive_failures: int
    retry_tokens: float


class StateOut(BaseModel):
    version: int | None
    routes: list[RouteStateOut]
    upstreams: list[UpstreamStateOut]
    shadow_queue_depth: int


class DifferenceOut(BaseModel):
    path: str
    primary: Any
    candidate: Any
    reason: str


class MismatchOut(BaseModel):
    at: datetime
    method: str
    target: str
    primary_status: int
    candidate_status: int | None
    primary_body: str
    candidate_body: str
    differences: list[DifferenceOut]


class ExplainStepOut(BaseModel):
    route: str
    matched: bool
    reason: str


class ExplainOut(BaseModel):
    route: str | None
    mode: str
    upstreams: dict[str, str]
    steps: list[ExplainStepOut]
