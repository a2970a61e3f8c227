"""The kit on another monolith: the helpdesk's phases 0 and 1, from its own topology file
(relocated to free loopback ports), with its own pact, provider states, traffic, load
scenario and pre-step. Phase 0 through the ``kit`` command as a reader types it, phase 1
through the engine; then reading a ticket through the proxy is the extracted service's job.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.helpdesk.api import TicketIn
from examples.helpdesk.client import HelpdeskClient
from migration_playbook.context import KitContext
from migration_playbook.gates.result import Outcome
from migration_playbook.orchestration.engine import Engine
from migration_playbook.orchestration.reports import PhaseReport
from migration_playbook.phases.loader import find_phase
from migration_playbook.settings import KitSettings
from migration_playbook.topology import load_topology
from migration_playbook.topology.edit import dump_topology, with_changes
from tests.kit_stack import TEST_LATENCY_SLACK, free_port_on

ROOT = Path(__file__).resolve().parents[4]
HELPDESK_TOPOLOGY = ROOT / "examples/helpdesk/kit/topology.yaml"


@pytest.fixture(scope="module")
def helpdesk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KitContext]:
    root = tmp_path_factory.mktemp("helpdesk")
    topology = load_topology(HELPDESK_TOPOLOGY)
    urls = {
        name: f"http://127.0.0.1:{free_port_on('127.0.0.1')}"
        for name, process in topology.processes.items()
        if process.url is not None
    }
    topology_file = dump_topology(with_changes(topology, urls=urls), root / "topology.yaml")
    settings = KitSettings.model_validate(
        {
            "workdir": root / "var",
            "reports_dir": root / "reports",
            "topology_file": topology_file,
            "latency_slack": TEST_LATENCY_SLACK,
        }
    )
    ctx = KitContext.create(settings)
    try:
        yield ctx
    finally:
        Engine(ctx).down()


def _kit(ctx: KitContext, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KIT_TOPOLOGY": str(ctx.settings.topology_file),
        "KIT_WORKDIR": str(ctx.settings.workdir),
        "KIT_REPORTS_DIR": str(ctx.settings.reports_dir),
        "KIT_LATENCY_SLACK": str(ctx.settings.latency_slack),
    }
    return subprocess.run(
        [sys.executable, "-m", "migration_playbook.cli.app", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_phase_0_through_the_kit_command(helpdesk: KitContext) -> None:
    up = _kit(helpdesk, "up", "--phase", "0")
    assert up.returncode == 0, up.stdout + up.stderr
    assert "phase 0 (proxy) is up" in up.stdout
    applied = _kit(helpdesk, "phase", "apply", "0")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    report = PhaseReport.model_validate_json((helpdesk.reports / "phase-0.json").read_text())
    assert report.outcome is Outcome.PASS, report.reason
    gates = {g.gate.split(":")[0]: g for g in report.gates}
    # the helpdesk's own pact, replayed against the monolith and through the proxy
    assert gates["contracts"].details["proxy"] == {"passed": 5, "failed": 0, "excluded": 0}
    assert gates["contracts"].details["monolith"]["passed"] == 5
    # its own k6 scenario (no transactions file: it files and reads tickets)
    assert gates["load"].details["requests"] > 0
    assert gates["load"].details["checks_failed"] == 0
    assert not list((helpdesk.reports / "phase-0").glob("k6-transactions.json"))
    # its own traffic and pre-step
    assert report.steps[0].traffic["by_outcome"].get("read ok", 0) > 0
    assert report.pre_steps[0].result.startswith(("filed 40 tickets", "the monolith has 40"))


def test_phase_1_moves_ticket_reads_to_the_extracted_service(helpdesk: KitContext) -> None:
    report = Engine(helpdesk).apply(find_phase(1, helpdesk.phases_dir))
    assert report.outcome is Outcome.PASS, report.reason
    assert [s.name for s in report.steps] == ["shadow", "canary-50", "cut-over"]
    shadow = next(g for g in report.steps[0].gates if g.gate == "shadow:ticket")
    assert shadow.details["shadow"]["comparisons"] >= 60
    assert shadow.details["shadow"]["mismatches"] == 0
    with helpdesk.admin() as admin:
        route = admin.route_state("ticket")
    assert route is not None and route.primary == "tickets-read" and route.mode == "passthrough"
    # a ticket filed now (on the monolith) reads back through the proxy from tickets-read
    with HelpdeskClient(helpdesk.url("proxy"), headers=helpdesk.auth_headers) as api:
        filed = api.create(TicketIn(customer_id="cust-e2e", subject="after the cut-over"))
        assert api.get(filed.id) == filed
    with HelpdeskClient(helpdesk.url("tickets-read")) as service:
        assert service.get(filed.id) == filed
