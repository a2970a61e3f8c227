"""Fixtures of the contract tests: real monolith processes on free local ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0
#: Whether a test's call phase passed, kept on its item (the committed-pact check reads it).
PASSED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.stash[PASSED] = report.passed
    return report


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Monolith:
    """One ``python -m legacy_monolith`` process with its own folder and SQLite database."""

    url: str
    folder: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return (self.folder / "monolith.log").read_text(errors="replace")


def _start(folder: Path, **env_overrides: str) -> Monolith:
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{folder / 'monolith.db'}",
        "MONOLITH_MODEL_DIR": str(folder / "models"),
        "MONOLITH_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **env_overrides,
    }
    log = (folder / "monolith.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "legacy_monolith"],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    monolith = Monolith(f"http://127.0.0.1:{port}", folder, process)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the monolith exited with {process.returncode}:\n{monolith.log()}")
        try:
            if httpx.get(f"{monolith.url}/healthz", timeout=1.0).status_code == 200:
                return monolith
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    _stop(monolith)
    raise RuntimeError(f"the monolith did not answer /healthz in {START_TIMEOUT_S}s")


def _stop(monolith: Monolith) -> None:
    if monolith.process.poll() is None:
        os.killpg(monolith.process.pid, signal.SIGTERM)
        try:
            monolith.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(monolith.process.pid, signal.SIGKILL)
            monolith.process.wait()


@pytest.fixture(scope="session")
def start_monolith(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., Monolith]]:
    """Factory: a fresh monolith (own temp folder and database) per call, stopped at the end."""
    started: list[Monolith] = []

    def start(name: str = "monolith", **env: str) -> Monolith:
        monolith = _start(tmp_path_factory.mktemp(name), **env)
        started.append(monolith)
        return monolith

    yield start
    for monolith in started:
        _stop(monolith)
