"""The inference service's one ``Settings``: ``INFERENCE_*`` variables plus the common names.

``PORT``, ``DATABASE_URL``, ``AMQP_URI`` and ``MLFLOW_TRACKING_URI`` are honoured too
(DESIGN section 7), so the runner, the containers and the tests configure it the same way.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

_DEFAULT_VAR = Path("var") / "inference"
SERVICE_NAME = "inference"


def _alias(name: str) -> AliasChoices:
    return AliasChoices(f"INFERENCE_{name}", name)


class Settings(BaseSettings):
    """Configuration of one inference process."""

    model_config = SettingsConfigDict(env_prefix="INFERENCE_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8102, validation_alias=_alias("PORT"))
    database_url: str = Field(
        default=f"sqlite:///{_DEFAULT_VAR / 'inference.db'}",
        validation_alias=_alias("DATABASE_URL"),
    )
    amqp_uri: str = Field(
        default="amqp://guest:guest@127.0.0.1:5672/", validation_alias=_alias("AMQP_URI")
    )
    #: Without a broker the service still scores and audits (events wait in the outbox),
    #: but it is not ready; set false only for tests and benchmarks of the scoring path.
    messaging_enabled: bool = True
    mlflow_tracking_uri: str = Field(
        default="http://127.0.0.1:5500", validation_alias=_alias("MLFLOW_TRACKING_URI")
    )
    model_uri: str = "models:/risk-scorer@champion"
    backend: Literal["torch", "onnx"] = "onnx"

    #: Micro-batching: gather concurrent requests up to this many rows ...
    max_batch_size: int = Field(default=256, ge=1, le=4096)
    #: ... waiting at most this long after the first one (0: take what is queued).
    max_wait_ms: float = Field(default=2.0, ge=0.0, le=1000.0)
    #: Off: every request is scored alone (the benchmark's baseline).
    batching: bool = True
    #: Requests waiting to be scored; beyond this a request gets 503 with Retry-After.
    queue_bound: int = Field(default=512, ge=1)
    retry_after_s: int = Field(default=1, ge=1)

    #: Worker processes on the one port (uvicorn's); each scores, audits and publishes on
    #: its own and consumes promotions on a queue of its own.
    workers: int = Field(default=1, ge=1, le=32)
    #: This process's name on the broker (its own ``model_promoted`` queue); unique per
    #: process: the host name and the process id.
    instance_id: str = Field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    torch_threads: int = Field(default=1, ge=1)
    #: Python's GIL switch interval for this process (see ``__main__``).
    switch_interval_ms: float = Field(default=0.5, gt=0.0, le=10.0)
    log_json: bool = True
    log_level: str = "INFO"
    #: Where the service keeps its exported ONNX graphs.
    work_dir: Path = _DEFAULT_VAR
