"""Settings of the legacy sync process: ``MONOLITH_*`` like the monolith (same database),
plus ``AMQP_URI``, ``DATABASE_URL``, ``LOG_LEVEL`` and ``PORT`` (health and metrics; its
own prefixed name is ``MONOLITH_SYNC_PORT``, as ``MONOLITH_PORT`` is the monolith's)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from eventbus import DEFAULT_AMQP_URI
from legacy_monolith.settings import Settings as MonolithSettings
from service_runtime.settings import ServiceSettings

_DEFAULT_DB = MonolithSettings.model_fields["database_url"].default


class SyncSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MONOLITH_", extra="ignore")

    port: int = Field(default=5001, validation_alias=AliasChoices("MONOLITH_SYNC_PORT", "PORT"))
    database_url: str = _DEFAULT_DB
    amqp_uri: str = DEFAULT_AMQP_URI
    sync_prefetch: int = Field(default=32, ge=1)
    sync_max_retries: int = Field(default=3, ge=0)
    sync_retry_delay_s: float = Field(default=1.0, ge=0)
    migrate_on_start: bool = True
