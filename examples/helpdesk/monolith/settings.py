"""The monolith's settings: ``HELPDESK_*`` (or the bare ``HOST``, ``PORT``, ``DATABASE_URL``
the kit's runner sets for every process)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPDESK_", extra="ignore")

    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("HELPDESK_HOST", "HOST"))
    port: int = Field(default=5600, validation_alias=AliasChoices("HELPDESK_PORT", "PORT"))
    database_url: str = Field(
        default="sqlite:///var/helpdesk/helpdesk.db",
        validation_alias=AliasChoices("HELPDESK_DATABASE_URL", "DATABASE_URL"),
    )
    threads: int = Field(default=8, ge=1, le=64)
