"""The route table as frozen pydantic models: one type per mode, each validating its own fields.

Routes are tried in file order and the first match wins (explicit precedence); a request
that no route matches goes to ``default_upstream``. A path is matched either by
``path_prefix`` (segment-aware: ``/a/b`` matches ``/a/b`` and ``/a/b/c``, not ``/a/bc``) or
by ``path`` (a template such as ``/api/v1/predictions/{prediction_id}``, one segment per
variable).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: The methods a ``read_fallback`` applies to: reads, whose 404 may mean "not here yet".
READ_METHODS = frozenset({"GET", "HEAD"})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
HTTP_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE", "POST", "PATCH"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_TEMPLATE_VAR = re.compile(r"^\{[A-Za-z_][A-Za-z0-9_]*\}$")
STICKY_SOURCES = ("header", "query", "cookie")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RetryPolicy(_Frozen):
    """Retries of idempotent requests: attempts include the first one."""

    attempts: int = Field(default=2, ge=1, le=5)
    backoff_s: float = Field(default=0.02, ge=0, le=5)
    budget_ratio: float = Field(
        default=0.2, ge=0, le=1, description="Retries allowed per original request, long-term."
    )
    min_retries: int = Field(default=10, ge=0, description="Retry tokens available at start.")


class BreakerPolicy(_Frozen):
    """Open after ``failure_threshold`` consecutive failures, probe again after ``open_s``."""

    failure_threshold: int = Field(default=5, ge=1)
    open_s: float = Field(default=10.0, gt=0)


class Upstream(_Frozen):
    url: str
    timeout_s: float = Field(default=5.0, gt=0, le=300)
    connect_timeout_s: float = Field(default=1.0, gt=0, le=60)
    max_connections: int = Field(default=100, ge=1, le=10_000)
    retry: RetryPolicy = RetryPolicy()
    breaker: BreakerPolicy = BreakerPolicy()
    dry_run: bool = Field(
        default=False,
        description="Honours 'X-Dry-Run: true' without side effects, so it may be shadowed "
        "with non-idempotent requests.",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+(/[^\s]*)?$", value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")


class Match(_Frozen):
    path_prefix: str | None = None
    path: str | None = Field(default=None, description="Template: /a/{id}/b")
    methods: tuple[str, ...] | None = None
    headers: dict[str, str] = Field(
        default_factory=dict, description="Exact value, or '*' for 'present'."
    )
    query: dict[str, str] = Field(default_factory=dict, description="Exact value, or '*'.")

    @field_validator("path_prefix", "path")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError("must start with '/'")
        return value

    @field_validator("path")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is None:
            return value
        for segment in value.split("/")[1:]:
            if ("{" in segment or "}" in segment) and not _TEMPLATE_VAR.match(segment):
                raise ValueError(f"template segment '{segment}' must be a whole '{{name}}'")
        return value

    @field_validator("methods")
    @classmethod
    def _methods(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("must list at least one method (omit it to match every method)")
        upper = tuple(m.upper() for m in value)
        unknown = sorted(set(upper) - HTTP_METHODS)
        if unknown:
            raise ValueError(f"unknown HTTP method(s): {', '.join(unknown)}")
        return upper

    @field_validator("headers")
    @classmethod
    def _lower_headers(cls, value: dict[str, str]) -> dict[str, str]:
        return {k.lower(): v for k, v in value.items()}

    @model_validator(mode="after")
    def _one_path(self) -> Match:
        if (self.path_prefix is None) == (self.path is None):
            raise ValueError("give exactly one of 'path_prefix' or 'path'")
        return self

    @property
    def all_methods(self) -> frozenset[str]:
        return frozenset(self.methods) if self.methods is not None else HTTP_METHODS


class CompareSpec(_Frozen):
    """How a shadow answer is compared with the primary's."""

    ignore: tuple[str, ...] = Field(
        default=(),
        description="A bare key ('prediction_id') is ignored at any depth; a JSON path "
        "('$.predictions[*].explanation') only there.",
    )
    abs_tol: float = Field(default=0.0, ge=0)
    rel_tol: float = Field(default=0.0, ge=0)
    compare_status: bool = True
    decision_field: str = "decision"


class RollbackSpec(_Frozen):
    """The candidate's SLO over a sliding window; breaking it sets the weight to 0."""

    max_error_rate: float = Field(default=0.01, ge=0, le=1)
    max_p99_ms: float = Field(default=250.0, gt=0)
    window_s: float = Field(default=30.0, gt=0, le=3600)
    min_requests: int = Field(default=50, ge=1)


def _sticky(value: str | None) -> str | None:
    if value is None:
        return None
    source, sep, name = value.partition(":")
    if not sep or source not in STICKY_SOURCES or not name:
        raise ValueError("must be 'header:NAME', 'query:NAME' or 'cookie:NAME'")
    return f"{source}:{name.lower() if source == 'header' else name}"


class _RouteBase(_Frozen):
    name: str
    match: Match
    primary: str
    fallback: str | None = Field(
        default=None, description="Serves the request when the chosen upstream fails."
    )
    read_fallback: str | None = Field(
        default=None,
        description="Asked when the primary answers a GET or HEAD with 404: during a "
        "migration a record may live on either side (written by the side that served it, "
        "copied over later), so a read tries the other side before saying it does not "
        "exist. Its answer, 404 included, is the client's.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("must be 1-63 letters, digits, '_', '.', '-'")
        return value

    @property
    def upstream_refs(self) -> dict[str, str]:
        refs = {"primary": self.primary}
        if self.fallback is not None:
            refs["fallback"] = self.fallback
        if self.read_fallback is not None:
            refs["read_fallback"] = self.read_fallback
        return refs


class PassthroughRoute(_RouteBase):
    mode: Literal["passthrough"]


class ShadowRoute(_RouteBase):
    mode: Literal["shadow"]
    candidate: str
    compare: CompareSpec = CompareSpec()
    sample_percent: float = Field(
        default=100.0, ge=0, le=100, description="Share of requests copied to the candidate."
    )

    @property
    def upstream_refs(self) -> dict[str, str]:
        return {**super().upstream_refs, "candidate": self.candidate}


class CanaryRoute(_RouteBase):
    mode: Literal["canary"]
    candidate: str
    weight: float = Field(ge=0, le=100, description="Percent of traffic to the candidate.")
    sticky_key: str | None = None
    rollback: RollbackSpec | None = None

    @field_validator("sticky_key")
    @classmethod
    def _sticky_key(cls, value: str | None) -> str | None:
        return _sticky(value)

    @property
    def upstream_refs(self) -> dict[str, str]:
        return {**super().upstream_refs, "candidate": self.candidate}


Route = Annotated[PassthroughRoute | ShadowRoute | CanaryRoute, Field(discriminator="mode")]
MODES = ("passthrough", "shadow", "canary")


class RouteTable(_Frozen):
    upstreams: dict[str, Upstream] = Field(min_length=1)
    routes: tuple[Route, ...] = ()
    default_upstream: str

    def route(self, name: str) -> PassthroughRoute | ShadowRoute | CanaryRoute | None:
        for route in self.routes:
            if route.name == name:
                return route
        return None
