"""The proxy's configuration: one pydantic-settings ``Settings``, read from ``PROXY_*`` env vars.

``PORT`` (the kit's common name) is honoured as well as ``PROXY_PORT``. Nothing here has a
secret default: with auth on, a JWT secret or a JWKS file must be given, and the
placeholder secret ``change-me`` is refused outside ``dev``.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me"


class Settings(BaseSettings):
    """Every knob of the proxy; the route table itself lives in its own YAML file."""

    model_config = SettingsConfigDict(env_prefix="PROXY_", extra="ignore", frozen=True)

    environment: Literal["dev", "test", "prod"] = "dev"
    host: str = Field(
        default="127.0.0.1", validation_alias=AliasChoices("PROXY_HOST", "HOST", "host")
    )
    port: int = Field(default=8000, validation_alias=AliasChoices("PORT", "PROXY_PORT", "port"))
    route_table: Path | None = Field(
        default=None, description="YAML route table; without it every request goes nowhere."
    )
    watch_table: bool = Field(default=True, description="Reload the table when its file changes.")
    watch_debounce_ms: int = Field(default=300, ge=10)

    # Edge security. Auth is on unless explicitly disabled (workshops only).
    auth_disabled: bool = False
    jwt_secret: SecretStr | None = Field(default=None, description="HS256 shared secret.")
    jwks_file: Path | None = Field(default=None, description="RS256 public keys (JWKS JSON).")
    access_policy: Path | None = Field(
        default=None,
        description="Which roles may send which requests (YAML); unset: any valid token.",
    )
    audit_log: Path | None = Field(
        default=None,
        description="Append the action log (table changes, rollbacks, audited calls) to this "
        "JSON-lines file; unset: kept in memory only (strangler_proxy/audit.py).",
    )
    auditor_role: str = Field(
        default="auditor", description="Besides the operator, may read GET /_admin/audit."
    )
    jwt_audience: str = "ai-migration-kit"
    jwt_issuer: str | None = None
    jwt_leeway_s: float = Field(default=5.0, ge=0)
    roles_claim: str = "roles"
    operator_role: str = "operator"
    token_cache_size: int = Field(default=10_000, ge=0)

    # Forwarding.
    max_buffered_body_bytes: int = Field(
        default=1_048_576,
        ge=0,
        description="Largest request body kept in memory for retries, fallback and shadowing.",
    )
    max_compared_body_bytes: int = Field(default=1_048_576, ge=0)
    max_request_body_bytes: int = Field(
        default=16_777_216,
        ge=1,
        description="Largest request body accepted; a larger one gets a 413 problem.",
    )
    upstream_keepalive_s: float = Field(
        default=4.0, gt=0, description="Idle keep-alive; keep it below the upstreams' (5 s)."
    )

    # Shadow traffic and history.
    shadow_queue_size: int = Field(default=1000, ge=1)
    shadow_workers: int = Field(default=4, ge=1)
    mismatch_samples: int = Field(default=20, ge=1)
    history_size: int = Field(default=50, ge=2)

    # Replicas: the live table, its version and rollbacks shared through one store.
    shared_state_url: str | None = Field(
        default=None,
        description="sqlite:///ABSOLUTE/PATH on a volume every replica mounts; unset: this "
        "proxy is alone.",
    )
    shared_poll_s: float = Field(default=0.5, gt=0, le=30)
    replica_name: str = Field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}",
        description="Names this replica in the shared store and in rollback reasons.",
    )

    # Serving.
    log_level: str = "info"
    uvicorn_keepalive_s: int = 5

    @model_validator(mode="after")
    def _auth_is_configured(self) -> Settings:
        if self.auth_disabled:
            if self.environment == "prod":
                raise ValueError("PROXY_AUTH_DISABLED is refused when PROXY_ENVIRONMENT=prod")
            return self
        if self.jwt_secret is None and self.jwks_file is None:
            raise ValueError(
                "auth is on: set PROXY_JWT_SECRET (HS256) or PROXY_JWKS_FILE (RS256), "
                "or PROXY_AUTH_DISABLED=true for a local workshop"
            )
        if (
            self.jwt_secret is not None
            and self.jwt_secret.get_secret_value() == PLACEHOLDER_SECRET
            and self.environment != "dev"
        ):
            raise ValueError("the placeholder JWT secret is refused outside dev")
        return self
