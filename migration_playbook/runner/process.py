"""One managed child process: started as ``python -m <module>``, health-checked, stopped.

Each process gets its own log file and its own process group, so stopping it also stops
anything it spawned (gunicorn workers, uvicorn reloaders), and nothing is left orphaned.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


class ProcessFailed(RuntimeError):
    """A process exited or did not become ready; the message has its log's tail."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Something accepts connections on ``host:port``."""
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0


def tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file (empty when there is none)."""
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class ManagedProcess:
    """A ``python -m module`` child with env, log file, readiness URL and clean shutdown."""

    name: str
    module: str
    port: int
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    ready_path: str = "/readyz"
    _popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    def start(self) -> None:
        if port_in_use(self.port):
            raise ProcessFailed(f"{self.name}: port {self.port} is already in use")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PORT": str(self.port), "PYTHONUNBUFFERED": "1", **self.env}
        with self.log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                [sys.executable, "-m", self.module],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Poll the readiness URL until it answers 200, or fail with the log's tail."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self._popen is None or self._popen.poll() is not None:
                code = self._popen.returncode if self._popen else None
                raise ProcessFailed(
                    f"{self.name} exited with code {code} before it was ready; "
                    f"last log lines of {self.log_path}:\n{tail(self.log_path)}"
                )
            try:
                response = httpx.get(self.url + self.ready_path, timeout=2.0)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            time.sleep(0.2)
        raise ProcessFailed(
            f"{self.name} was not ready at {self.url}{self.ready_path} after {timeout:.0f}s "
            f"({last}); last log lines of {self.log_path}:\n{tail(self.log_path)}"
        )

    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM the process group, then SIGKILL what is left after ``timeout``."""
        if self._popen is None:
            return None
        if self._popen.poll() is None:
            try:
                os.killpg(self._popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self._popen.pid, signal.SIGKILL)
                self._popen.wait(5)
        try:  # anything the child spawned that outlived it
            os.killpg(self._popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return self._popen.returncode
