"""Two proxy processes on one shared state store: one table version for both, and a
canary that fails on one replica is rolled back on both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from contracts.proxy_admin import ProxyAdminClient
from migration_playbook.runner.process import free_port
from strangler_proxy.settings import Settings
from strangler_proxy.shared_state import SharedStateError, sqlite_path
from tests.integration.strangler_proxy.conftest import SECRET, make_token, table_yaml
from tests.integration.strangler_proxy.servers import FakeUpstream

CANARY = {
    "name": "predictions",
    "match": {"path_prefix": "/api/v1/predictions", "methods": ["POST"]},
    "mode": "canary",
    "primary": "monolith",
    "candidate": "inference",
    "weight": 50,
    "rollback": {"max_error_rate": 0.1, "max_p99_ms": 5000, "window_s": 60, "min_requests": 6},
}
PASSTHROUGH = {**{k: CANARY[k] for k in ("name", "match", "primary")}, "mode": "passthrough"}


class Replica:
    def __init__(self, name: str, process: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.name, self.process, self.url, self.log = name, process, url, log

    def admin(self) -> ProxyAdminClient:
        return ProxyAdminClient(self.url, make_token(["operator"]))

    def version(self) -> int | None:
        with self.admin() as admin:
            return admin.current().version

    def rollback_verdict(self) -> tuple[str | None, float | None, str | None]:
        with self.admin() as admin:
            state = admin.route_state("predictions")
        if state is None or state.rollback is None:
            return None, None, None
        return state.rollback.verdict, state.effective_weight, state.rollback.reason


def _until(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.1)


@pytest.fixture
def replicas(tmp_path: Path, urls: dict[str, str]) -> Iterator[Callable[[str], Replica]]:
    started: list[Replica] = []
    table = tmp_path / "routes.yaml"
    table.write_text(table_yaml(urls, [PASSTHROUGH]))
    state_url = f"sqlite:///{tmp_path / 'shared' / 'proxy-state.db'}"

    def start(name: str) -> Replica:
        port = free_port()
        log = tmp_path / f"proxy-{name}.log"
        env = {
            **os.environ,
            "PROXY_HOST": "127.0.0.1",
            "PORT": str(port),
            "PROXY_JWT_SECRET": SECRET,
            "PROXY_ENVIRONMENT": "test",
            "PROXY_ROUTE_TABLE": str(table),
            "PROXY_WATCH_TABLE": "false",
            "PROXY_SHARED_STATE_URL": state_url,
            "PROXY_SHARED_POLL_S": "0.2",
            "PROXY_REPLICA_NAME": name,
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "strangler_proxy"],
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        replica = Replica(name, process, f"http://127.0.0.1:{port}", log)
        started.append(replica)

        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(log.read_text())
            try:
                return httpx.get(replica.url + "/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        _until(ready, f"replica {name} ready", 30)
        return replica

    yield start
    for replica in started:
        if replica.process.poll() is None:
            os.killpg(replica.process.pid, signal.SIGTERM)
        replica.process.wait(timeout=20)


def test_a_candidate_failing_on_one_replica_is_rolled_back_on_both(
    replicas: Callable[[str], Replica], fakes: dict[str, FakeUpstream], urls: dict[str, str]
) -> None:
    a, b = replicas("a"), replicas("b")
    assert a.version() == b.version() == 1  # b adopted the table a published at start

    with a.admin() as admin:
        applied = admin.apply(table_yaml(urls, [CANARY]))
    _until(lambda: b.version() == applied.version, "b follows the table applied on a")
    assert b.rollback_verdict()[0] == "insufficient_data"

    fakes["inference"].status = 500  # the candidate fails
    user = {"Authorization": f"Bearer {make_token()}"}
    with httpx.Client(base_url=a.url, headers=user, timeout=10) as client:
        for _ in range(40):
            client.post("/api/v1/predictions", json={})
            if a.rollback_verdict()[0] == "rolled_back":
                break
    assert a.rollback_verdict()[:2] == ("rolled_back", 0.0)
    _until(lambda: b.rollback_verdict()[0] == "rolled_back", "b rolls back too", 5)
    verdict, weight, reason = b.rollback_verdict()
    assert weight == 0.0 and reason is not None and "on replica a" in reason

    # b no longer sends anything to the candidate, without having seen one failure itself
    before = sum(fakes["inference"].hits.values())
    with httpx.Client(base_url=b.url, headers=user, timeout=10) as client:
        statuses = {client.post("/api/v1/predictions", json={}).status_code for _ in range(20)}
    assert statuses == {200}
    assert sum(fakes["inference"].hits.values()) == before

    # a table applied on b comes back to a, under the same version
    with b.admin() as admin:
        again = admin.apply(table_yaml(urls, [PASSTHROUGH]))
    _until(lambda: a.version() == again.version, "a follows the table applied on b")


def test_a_third_replica_starts_on_the_shared_table_not_its_file(
    replicas: Callable[[str], Replica], urls: dict[str, str]
) -> None:
    a = replicas("a")
    with a.admin() as admin:
        applied = admin.apply(table_yaml(urls, [CANARY]))
    c = replicas("c")  # its file still holds the passthrough table
    assert c.version() == applied.version
    assert c.rollback_verdict()[0] == "insufficient_data"  # the canary, not the file's route


def test_only_an_absolute_sqlite_url_is_taken() -> None:
    assert sqlite_path("sqlite:////var/lib/proxy/state.db") == Path("/var/lib/proxy/state.db")
    with pytest.raises(SharedStateError):
        sqlite_path("postgresql://db/proxy")
    settings = Settings(jwt_secret=SECRET, environment="test", replica_name="r1")
    assert settings.shared_state_url is None and settings.replica_name == "r1"
