"""Processes and models the inference integration tests share."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from migration_playbook.runner.process import ManagedProcess, free_port, tail


@dataclass
class MlflowServer:
    """A real ``mlflow server`` (SQLite store, artifact folder) in its own process group."""

    root: Path
    port: int
    _popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.root / "mlflow.log"

    def start(self, timeout: float = 90.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        mlflow = Path(sys.executable).with_name("mlflow")
        command = [
            str(mlflow),
            "server",
            "--backend-store-uri",
            f"sqlite:///{self.root / 'mlflow.db'}",
            "--default-artifact-root",
            str(self.root / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
        ]
        env = {
            **os.environ,
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
            "MLFLOW_DISABLE_TELEMETRY": "true",
        }
        with self.log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                command,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._popen.poll() is not None:
                raise RuntimeError(f"mlflow server exited:\n{tail(self.log_path)}")
            try:
                if httpx.get(self.url + "/health", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"mlflow server not healthy after {timeout}s:\n{tail(self.log_path)}")

    def stop(self) -> None:
        if self._popen is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self._popen.pid, sig)
            except ProcessLookupError:
                break
            try:
                self._popen.wait(10)
            except subprocess.TimeoutExpired:
                continue
        try:  # huey consumers or gunicorn workers that outlived the parent
            os.killpg(self._popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def start_service(
    root: Path, name: str, tracking_uri: str, *, ready: bool = True, **env: Any
) -> ManagedProcess:
    """Start ``python -m extracted_services.inference`` on a free port with its own DB."""
    port = free_port()
    options = {
        "DATABASE_URL": f"sqlite:///{root / name / 'inference.db'}",
        "MLFLOW_TRACKING_URI": tracking_uri,
        "INFERENCE_WORK_DIR": str(root / name),
        "INFERENCE_LOG_JSON": "false",
        "INFERENCE_LOG_LEVEL": "INFO",
        "INFERENCE_MESSAGING_ENABLED": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    options.update({key: str(value) for key, value in env.items()})
    process = ManagedProcess(
        name=f"inference-{name}",
        module="extracted_services.inference",
        port=port,
        log_path=root / name / "service.log",
        env=options,
    )
    process.start()
    if ready:
        try:
            process.wait_ready(120)
        except Exception:
            process.stop()
            raise
    return process
