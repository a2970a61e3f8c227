"""The inference service's one ``Settings``: ``INFERENCE_*`` variables plus the common names.

``PORT``, ``DATABASE_URL``, ``AMQP_URI``, ``LOG_LEVEL`` and ``MLFLOW_TRACKING_URI`` are
honoured too (``service_runtime.settings``), so the runner, the containers and the tests
configure it the same way.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from service_runtime.settings import ServiceSettings

_DEFAULT_VAR = Path("var") / "inference"
SERVICE_NAME = "inference"


class Settings(ServiceSettings):
    """Configuration of one inference process."""

    model_config = SettingsConfigDict(env_prefix="INFERENCE_", extra="ignore")

    port: int = 8102
    database_url: str = f"sqlite:///{_DEFAULT_VAR / 'inference.db'}"
    amqp_uri: str = "amqp://guest:guest@127.0.0.1:5672/"
    #: Without a broker the service still scores and audits (events wait in the outbox),
    #: but it is not ready; set false only for tests and benchmarks of the scoring path.
    messaging_enabled: bool = True
    mlflow_tracking_uri: str = "http://127.0.0.1:5500"
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
    #: Where the service keeps its exported ONNX graphs.
    work_dir: Path = _DEFAULT_VAR
