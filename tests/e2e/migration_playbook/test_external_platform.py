"""``kit phase apply`` against a deployment the kit did not start (platform ``external``).

The test starts phase 0's processes itself, as the local runner would but outside the kit
(plain subprocesses of the test), writes a topology of URLs only, and runs ``kit phase
apply 0`` on it: the gates pass, the traffic moves through the proxy's admin API, and the
kit started and stopped nothing (no supervisord, no child process of its own left, the
test's processes still the ones answering).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from migration_playbook.cli.app import app
from migration_playbook.context import KitContext
from migration_playbook.orchestration.ledger import Ledger
from migration_playbook.phases.loader import find_phase, render_table, table_text
from migration_playbook.runner.external import ExternalRunner
from migration_playbook.settings import KitSettings
from migration_playbook.topology.edit import as_external, dump_topology
from tests.amqp_support import fresh_vhost
from tests.kit_stack import TEST_LATENCY_SLACK, relocated

PHASE = 0


def _children() -> set[int]:
    """The live child processes of this test process (zombies excluded)."""
    me = str(os.getpid())
    out = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me and fields[0] != "Z":
            out.add(int(entry.name))
    return out


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{url} exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} not ready: {log.read_text()[-2000:]}")


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[tuple[KitSettings, dict[str, subprocess.Popen[bytes]]]]:
    """Phase 0's processes started by the test, and the settings of an external topology."""
    with fresh_vhost("kit-external") as uri:
        local = KitSettings.model_validate(
            {
                "workdir": tmp_path / "var",
                "reports_dir": tmp_path / "reports",
                "amqp_uri": uri,
                "topology_file": dump_topology(relocated(), tmp_path / "local.yaml"),
                "latency_slack": TEST_LATENCY_SLACK,
            }
        )
        # The local runner is never asked to start anything: only its recipe is read.
        recipe = KitContext.create(local)
        phase = find_phase(PHASE)
        (local.workdir / "data").mkdir(parents=True, exist_ok=True)
        # The deployment serves some other table (a longer monolith timeout): the kit's
        # step must move it to the phase's table through the admin API.
        table = render_table(phase, recipe.urls())
        table["upstreams"]["monolith"]["timeout_s"] = 9.0
        (local.workdir / "routes.yaml").write_text(table_text(table))
        processes: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for name in phase.processes:
                spec = recipe.catalog[name]
                log = tmp_path / f"{name}.log"
                processes[name] = subprocess.Popen(
                    spec.argv,
                    env={**os.environ, **spec.env},
                    stdout=log.open("wb"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                assert spec.url is not None
                _wait_ready(spec.url, processes[name], log)
            external = as_external(recipe.topology, phase.processes)
            settings = local.model_copy(
                update={"topology_file": dump_topology(external, tmp_path / "external.yaml")}
            )
            yield settings, processes
        finally:
            for process in processes.values():
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
            for process in processes.values():
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def test_phase_0_applies_on_a_deployment_the_kit_did_not_start(
    deployment: tuple[KitSettings, dict[str, subprocess.Popen[bytes]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings, processes = deployment
    ours = {p.pid for p in processes.values()}
    # Children of this process besides ours (a session fixture's MLflow server, say) are
    # not the kit's: what counts is that the kit adds none.
    baseline = _children()
    assert ours <= baseline
    for key, value in {
        "KIT_WORKDIR": settings.workdir,
        "KIT_REPORTS_DIR": settings.reports_dir,
        "KIT_TOPOLOGY": settings.topology_file,
        "KIT_AMQP_URI": settings.amqp_uri,
        "KIT_LATENCY_SLACK": settings.latency_slack,
    }.items():
        monkeypatch.setenv(key, str(value))
    ctx = KitContext.create()
    assert ctx.topology.platform == "external"
    assert isinstance(ctx.runner, ExternalRunner)
    assert all(spec.argv == () for spec in ctx.catalog.values())
    with ctx.admin() as admin:
        before = admin.current()
    assert before.origin == "startup"

    result = CliRunner().invoke(app, ["phase", "apply", str(PHASE)])
    assert result.exit_code == 0, result.output

    # the gates ran and traffic moved through the admin API ...
    entries = [e for e in Ledger(ctx.ledger_path).read() if e.phase == PHASE]
    assert [e.action for e in entries] == ["pre-step", "step", "apply"]
    assert entries[-1].outcome == "pass"
    step = entries[1]
    assert isinstance(step.table_version, int) and step.table_version > before.version
    with ctx.admin() as admin:
        live = admin.current()
    assert live.version == step.table_version
    assert live.origin == "admin" and live.table["upstreams"]["monolith"]["timeout_s"] == 10.0
    # ... and the kit started and stopped nothing
    assert not (settings.workdir / "supervisord.conf").exists()
    assert not (settings.workdir / "supervisor.sock").exists()
    assert all(p.poll() is None for p in processes.values())
    assert _children() == baseline
    for state in ctx.runner.states():
        assert state.state == "RUNNING", state

    down = CliRunner().invoke(app, ["down"])
    assert down.exit_code == 0, down.output
    assert "stops nothing" in down.output
    assert all(p.poll() is None for p in processes.values())
