"""The kit's own settings (``KIT_*``): where it keeps state, and the ports of each process."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"


class KitSettings(BaseSettings):
    """Configuration of the ``kit`` command and the processes it starts."""

    model_config = SettingsConfigDict(env_prefix="KIT_", extra="ignore")

    workdir: Path = Path("var/kit")
    amqp_uri: str = Field(
        default=DEFAULT_AMQP_URI, validation_alias=AliasChoices("KIT_AMQP_URI", "AMQP_URI")
    )
    monolith_port: int = 5000
    legacy_sync_port: int = 5001
    chaos_port: int = 8199
    chaos_error_rate: float = 0.5
    proxy_port: int = 8000
    ingestion_port: int = 8101
    inference_port: int = 8102
    training_port: int = 8103
    monitoring_port: int = 8104
    mlflow_port: int = 5500
    #: Worker processes of the monolith (gunicorn) and of the inference service (uvicorn).
    monolith_workers: int = Field(default=1, ge=1, le=32)
    inference_workers: int = Field(default=1, ge=1, le=32)
    #: Processes per scalable consumer (``monitoring``, ``training``, ``legacy-sync``):
    #: 2 or more adds consumer-only replicas on the same queues, e.g.
    #: ``KIT_REPLICAS='{"monitoring": 2}'``.
    replicas: dict[str, int] = Field(default_factory=dict)

    @field_validator("replicas")
    @classmethod
    def _scalable(cls, value: dict[str, int]) -> dict[str, int]:
        scalable = ("monitoring", "training", "legacy-sync")
        for name, count in value.items():
            if name not in scalable:
                raise ValueError(f"{name!r} cannot be replicated; scalable: {', '.join(scalable)}")
            if not 1 <= count <= 8:
                raise ValueError(f"{name}: {count} processes (1 to 8)")
        return value

    ready_timeout_s: float = 90.0
    reports_dir: Path = Path("reports")

    @property
    def logs(self) -> Path:
        return self.workdir / "logs"

    @property
    def reports(self) -> Path:
        return self.reports_dir

    def url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}"

    @property
    def proxy_url(self) -> str:
        return self.url(self.proxy_port)

    @property
    def monolith_url(self) -> str:
        return self.url(self.monolith_port)

    @property
    def mlflow_url(self) -> str:
        return self.url(self.mlflow_port)

    def jwt_secret(self) -> str:
        """The proxy's HS256 secret for this workdir, created on first use (mode 0600)."""
        path = self.workdir / "jwt-secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()

    def sqlite_url(self, name: str) -> str:
        return f"sqlite:///{(self.workdir / 'data' / f'{name}.db').resolve()}"
