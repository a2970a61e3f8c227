"""The kit's contracts gate on another API: the helpdesk's pact, with its own provider
states, replayed against the helpdesk monolith (a real process on a free port), and
failing where a provider does not keep it (tickets-read files no tickets)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from examples.helpdesk.kit.states import helpdesk_states
from migration_playbook.gates.contracts import verify_pacts
from tests.contract.conftest import free_port

ROOT = Path(__file__).resolve().parents[4]
PACT = ROOT / "examples/helpdesk/kit/pacts/helpdesk-web-helpdesk-api.json"


def _serve(module: str, database: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "DATABASE_URL": f"sqlite:///{database}"}
    process = subprocess.Popen(
        [sys.executable, "-m", module],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, f"{module} not ready"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("helpdesk") / "helpdesk.db"


@pytest.fixture(scope="module")
def monolith(database: Path) -> Iterator[str]:
    yield from _serve("examples.helpdesk.monolith", database)


@pytest.fixture(scope="module")
def tickets_read(database: Path, monolith: str) -> Iterator[str]:
    yield from _serve("examples.helpdesk.tickets_read", database)  # the monolith made the table


def test_the_monolith_keeps_the_helpdesk_pact(monolith: str) -> None:
    result = verify_pacts(
        monolith, pact_files=[PACT], provider="helpdesk-api", states=helpdesk_states
    )
    assert result.passed, [i for i in result.interactions if i.outcome == "failed"]
    assert result.counts == {"passed": 5, "failed": 0, "excluded": 0}


def test_a_provider_that_does_not_keep_it_fails_on_what_it_lacks(tickets_read: str) -> None:
    result = verify_pacts(
        tickets_read, pact_files=[PACT], provider="helpdesk-api", states=helpdesk_states
    )
    assert not result.passed
    verdicts = {i.description: i.outcome for i in result.interactions}
    # it cannot file tickets, so neither the filing nor the states that file tickets hold
    assert verdicts["file a ticket"] == "failed"
    assert verdicts["read a ticket"] == "failed"
    assert verdicts["read a ticket that does not exist"] == "passed"


def test_unknown_excluded_states_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown provider state"):
        verify_pacts(
            "http://127.0.0.1:9",
            pact_files=[PACT],
            provider="helpdesk-api",
            states=helpdesk_states,
            exclude_states=["no model trained yet"],
        )


def test_kit_contracts_verify_uses_the_topologys_pact_and_states(
    monolith: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from migration_playbook.cli.app import app

    monkeypatch.setenv("KIT_TOPOLOGY", str(ROOT / "examples/helpdesk/kit/topology.yaml"))
    result = CliRunner().invoke(app, ["contracts", "verify", "--provider-url", monolith, "--json"])
    assert result.exit_code == 0, result.output
    assert '"provider": "helpdesk-api"' in result.output
    assert '"passed": 5' in result.output
