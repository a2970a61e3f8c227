"""A real MLflow tracking server (SQLite store, artifact folder) as a managed child process.

``mlflow server`` is started with one worker and without its job runner (about 9 s to a
healthy ``/health`` instead of about 23 s), in its own process group, and stopped by
signalling the group: after SIGTERM to the parent alone its helpers were seen orphaned.
Used by the tests and the benchmarks; the kit's ``up`` runs it through its own catalog.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from migration_playbook.runner.process import tail


@dataclass
class MlflowServer:
    """``mlflow server`` on 127.0.0.1:``port`` keeping everything under ``root``."""

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
        """Start and wait for ``/health``; raises ``RuntimeError`` with the log's tail."""
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
