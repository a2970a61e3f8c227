"""The helpdesk's kit files pass ``kit phase lint``, and a broken copy of them fails it
with each problem named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from migration_playbook.cli.app import app
from migration_playbook.cli.stack import uses_broker
from migration_playbook.topology import load_topology

KIT = Path(__file__).resolve().parents[5] / "examples/helpdesk/kit"


def _lint(monkeypatch: pytest.MonkeyPatch, topology: Path, phases: Path | None = None) -> str:
    monkeypatch.setenv("KIT_TOPOLOGY", str(topology))
    if phases is not None:
        monkeypatch.setenv("KIT_PHASES_DIR", str(phases))
    result = CliRunner().invoke(app, ["phase", "lint"])
    return f"exit {result.exit_code}\n{result.output}"


def test_the_helpdesk_files_lint_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    out = _lint(monkeypatch, KIT / "topology.yaml")
    assert out.startswith("exit 0"), out
    assert "topology helpdesk, 3 processes, 1 stores" in out
    assert "phase-0-proxy.yaml" in out and "phase-1-tickets-read.yaml" in out
    assert "phase-0-baseline.yaml" not in out  # not the bundled phases


def test_a_broken_copy_fails_with_every_problem_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    copy = tmp_path / "kit"
    shutil.copytree(KIT, copy)
    phase_file = copy / "phases/phase-1-tickets-read.yaml"
    phase = yaml.safe_load(phase_file.read_text())
    phase["pre_steps"][0]["action"] = "seed-tikcets"
    phase["steps"][0]["gates"][0]["route"] = "tikcet"
    phase["gates"][1]["script"] = "missing.js"
    phase["processes"].remove("tickets-read")
    phase_file.write_text(yaml.safe_dump(phase))
    (copy / "pacts/helpdesk-web-helpdesk-api.json").unlink()
    out = " ".join(_lint(monkeypatch, copy / "topology.yaml").split())
    assert out.startswith("exit 1"), out
    assert "kit.pacts:" in out and "is not a file" in out
    assert "unknown pre-step action 'seed-tikcets'" in out
    assert "gate shadow names unknown route 'tikcet'" in out
    assert "load script 'missing.js' not in" in out
    assert "upstream URL names {tickets-read}, not a process of the phase" in out
    assert "ok phase-0-proxy.yaml" in out  # the intact phase still lints clean


def test_kit_phases_dir_points_the_lint_at_another_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "phase-0-proxy.yaml").write_text((KIT / "phases/phase-0-proxy.yaml").read_text())
    out = _lint(monkeypatch, KIT / "topology.yaml", phases=tmp_path)
    assert out.startswith("exit 0"), out
    assert "phase-1-tickets-read.yaml" not in out
    empty = tmp_path / "empty"
    empty.mkdir()
    out = _lint(monkeypatch, KIT / "topology.yaml", phases=empty)
    assert out.startswith("exit 1") and "no phase files" in out


def test_the_helpdesk_needs_no_broker_and_the_bundled_migration_does() -> None:
    assert not uses_broker(load_topology(KIT / "topology.yaml"))
    assert uses_broker(load_topology())


def test_the_committed_route_table_is_phase_0s_with_the_topologys_urls() -> None:
    from migration_playbook.phases.loader import find_phase, render_table

    topology = load_topology(KIT / "topology.yaml")
    urls = {name: p.url for name, p in topology.processes.items() if p.url}
    rendered = render_table(find_phase(0, KIT / "phases"), urls)
    assert yaml.safe_load((KIT / "routes.yaml").read_text()) == rendered
    out = CliRunner().invoke(app, ["routes", "lint", str(KIT / "routes.yaml")])
    assert out.exit_code == 0, out.output
