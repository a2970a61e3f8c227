"""Settings of the legacy sync process: ``MONOLITH_*`` like the monolith (same database),
plus ``AMQP_URI``, ``DATABASE_URL`` and ``PORT`` (health and metrics)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from eventbus import DEFAULT_AMQP_URI
from legacy_monolith.settings import Settings as MonolithSettings

_DEFAULT_DB = MonolithSettings.model_fields["database_url"].default


class SyncSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MONOLITH_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=5001, validation_alias=AliasChoices("MONOLITH_SYNC_PORT", "PORT"))
    database_url: str = Field(
        default=_DEFAULT_DB,
        validation_alias=AliasChoices("MONOLITH_DATABASE_URL", "DATABASE_URL"),
    )
    amqp_uri: str = Field(
        default=DEFAULT_AMQP_URI, validation_alias=AliasChoices("MONOLITH_AMQP_URI", "AMQP_URI")
    )
    sync_prefetch: int = Field(default=32, ge=1)
    sync_max_retries: int = Field(default=3, ge=0)
    sync_retry_delay_s: float = Field(default=1.0, ge=0)
    migrate_on_start: bool = True
    log_json: bool = True
    log_level: str = "INFO"
