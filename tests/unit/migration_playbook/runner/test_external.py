"""The external runner: readiness from health endpoints, and it starts and stops nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from migration_playbook.runner.catalog import ProcessSpec
from migration_playbook.runner.external import NOT_READY, UNKNOWN, UNREACHABLE, ExternalRunner
from migration_playbook.runner.process import ProcessFailed, free_port
from migration_playbook.topology import Topology


class _Health(BaseHTTPRequestHandler):
    ready = {"/readyz": 200, "/down": 503}

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.send_response(self.ready.get(self.path, 404))
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _topology(up: str, down: str) -> Topology:
    return Topology.model_validate(
        {
            "name": "ext",
            "platform": "external",
            "processes": {
                "up": {"url": up},
                "sick": {"url": up, "health": "/down", "bind": "0.0.0.0"},
                "gone": {"url": down},
                "worker": {"health": None},
            },
        }
    )


def test_states_come_from_the_health_endpoints(server: str) -> None:
    runner = ExternalRunner(_topology(server, f"http://127.0.0.1:{free_port()}"))
    states = {s.name: s.state for s in runner.states()}
    assert states == {"up": "RUNNING", "sick": NOT_READY, "gone": UNREACHABLE, "worker": UNKNOWN}
    assert runner.running()


def test_ensure_starts_nothing_and_names_what_is_not_ready(server: str) -> None:
    gone = f"http://127.0.0.1:{free_port()}"
    runner = ExternalRunner(_topology(server, gone))
    up = ProcessSpec("up", (), server)
    assert runner.ensure([up, ProcessSpec("worker", (), None, ready_path=None)], 1) == []
    with pytest.raises(ProcessFailed, match="the kit starts nothing") as failure:
        runner.ensure([up, ProcessSpec("gone", (), gone)], 0.6)
    assert "gone:" in str(failure.value) and "up:" not in str(failure.value)


def test_stop_and_shutdown_stop_nothing(server: str) -> None:
    runner = ExternalRunner(_topology(server, f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(ProcessFailed, match="stops nothing; stop up on the platform"):
        runner.stop(["up"])
    assert runner.shutdown() is False
