"""The settings base of every deployable: ``<PREFIX>_X`` variables, and the common names.

A deployable's ``Settings`` subclasses :class:`ServiceSettings` with its own
``env_prefix`` (``MONITORING_``, ``INFERENCE_``, ...). Each field reads ``<PREFIX>_<NAME>``;
the fields named in :data:`COMMON_NAMES` (``HOST``, ``PORT``, ``DATABASE_URL``, ``AMQP_URI``,
``LOG_LEVEL``, ``MLFLOW_TRACKING_URI``) read the bare name as well when the prefixed one is
not set, so the runner, the containers and the tests configure every deployable the same
way.
Precedence: arguments, then ``<PREFIX>_X``, then ``X``, then the default.

Why a settings source and not ``AliasChoices`` on each field: the aliases were copied into
every ``Settings`` by hand with the prefix spelt out; here the prefix is the subclass's own
and a subclass declares only its defaults. A field that needs another name (the legacy
sync's ``MONOLITH_SYNC_PORT``) keeps an explicit ``validation_alias``, which this source
then leaves alone.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

#: Fields that also read their bare upper-case name from the environment.
COMMON_NAMES = ("host", "port", "database_url", "amqp_uri", "log_level", "mlflow_tracking_uri")


class CommonNames(PydanticBaseSettingsSource):
    """The bare common names of the environment (``PORT``, ...), for the fields of those
    names that the settings class declares without an alias."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return os.environ.get(field_name.upper()), field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in COMMON_NAMES:
            field = self.settings_cls.model_fields.get(name)
            if field is None or field.validation_alias is not None:
                continue
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                values[key] = value
        return values


class ServiceSettings(BaseSettings):
    """What every deployable's settings have; subclasses set ``env_prefix`` and declare
    ``port``, ``database_url``, ``amqp_uri`` (their defaults differ) as they need them."""

    model_config = SettingsConfigDict(extra="ignore")

    host: str = "127.0.0.1"
    log_level: str = "INFO"
    #: JSON lines (``service_runtime.logging``); false: plain text for a terminal.
    log_json: bool = True

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            CommonNames(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )
