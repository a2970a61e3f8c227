"""Phase files: the shipped ones lint clean; broken ones are refused with precise reasons."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from migration_playbook.orchestration.actions import ACTIONS
from migration_playbook.orchestration.candidate import with_candidate
from migration_playbook.phases.loader import (
    PhaseError,
    find_phase,
    lint_phase,
    load_phase,
    phase_files,
    render_table,
)
from migration_playbook.phases.models import RoutePatch
from migration_playbook.topology import Capability, ProcessDef, load_topology

TOPOLOGY = load_topology()


def test_every_shipped_phase_lints_clean() -> None:
    files = phase_files()
    assert [int(p.name.split("-")[1]) for p in files] == sorted(range(len(files)))
    for path in files:
        assert lint_phase(load_phase(path), path.name, TOPOLOGY, ACTIONS) == []


def _write(tmp_path: Path, document: dict[str, object]) -> Path:
    path = tmp_path / "phase-7-test.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def _base() -> dict[str, object]:
    return yaml.safe_load((phase_files()[1]).read_text())


def test_schema_errors_name_the_file_and_the_field(tmp_path: Path) -> None:
    document = _base()
    document["steps"][0]["traffic"]["rate_per_s"] = -1  # type: ignore[index]
    document["gates"].append({"kind": "telepathy"})  # type: ignore[attr-defined]
    with pytest.raises(PhaseError) as caught:
        load_phase(_write(tmp_path, document))
    text = "\n".join(caught.value.issues)
    assert "phase-7-test.yaml: steps.0.traffic.rate_per_s" in text
    assert "gates.5" in text or "telepathy" in text


def test_semantic_lint_finds_every_problem(tmp_path: Path) -> None:
    document = _base()
    document["processes"].append("oracle")  # type: ignore[attr-defined]
    document["pre_steps"].append({"action": "pray", "needs": ["nobody"]})  # type: ignore[attr-defined]
    document["steps"][1]["set"][0]["route"] = "nope"  # type: ignore[index]
    document["steps"][0]["gates"][0]["route"] = "ghost"  # type: ignore[index]
    document["route_table"]["routes"][0]["primary"] = "mainframe"  # type: ignore[index]
    phase = load_phase(_write(tmp_path, document))
    issues = "\n".join(lint_phase(phase, "p7", TOPOLOGY, ACTIONS))
    assert "unknown process 'oracle'" in issues
    assert "unknown pre-step action 'pray'" in issues
    assert "needs 'nobody'" in issues
    assert "step 'canary-10'" in issues and "unknown route 'nope'" in issues
    assert "unknown route 'ghost'" in issues
    assert "mainframe" in issues


def test_a_canary_patch_gets_the_phase_defaults_and_urls_are_filled_in() -> None:
    phase = find_phase(1)
    urls = {"monolith": "http://127.0.0.1:1", "inference": "http://127.0.0.1:2"}
    table = render_table(
        phase,
        urls,
        [RoutePatch(route="predictions", mode="canary", candidate="inference", weight=10)],
    )
    route = next(r for r in table["routes"] if r["name"] == "predictions")
    assert route["weight"] == 10 and route["fallback"] == "monolith"
    assert route["rollback"]["min_requests"] == phase.canary_defaults["rollback"]["min_requests"]
    assert table["upstreams"]["inference"]["url"] == "http://127.0.0.1:2"
    assert phase.route_table["upstreams"]["inference"]["url"] == "{inference}"  # not mutated


def test_a_rehearsed_faulty_build_replaces_only_canary_candidates() -> None:
    phase = with_candidate(find_phase(1), "chaos")
    modes = {step.name: {(p.mode, p.candidate) for p in step.set} for step in phase.steps}
    assert modes["shadow"] == {("shadow", "inference")}
    assert modes["canary-10"] == {("canary", "chaos")}
    assert "chaos" in phase.processes
    assert phase.route_table["upstreams"]["chaos"]["dry_run"] is True
    assert lint_phase(phase, "rehearsal", TOPOLOGY, ACTIONS) == []


def test_a_dry_run_upstream_needs_a_process_that_declares_the_capability() -> None:
    """A ``dry_run: true`` upstream lets the proxy shadow POSTs to it; a process that does
    not promise the dry-run contract in the topology would write on every shadow copy."""
    phase = find_phase(1)
    assert Capability.DRY_RUN in TOPOLOGY.processes["inference"].capabilities
    assert lint_phase(phase, "phase-1", TOPOLOGY, ACTIONS) == []
    inference = TOPOLOGY.processes["inference"].model_copy(update={"capabilities": frozenset()})
    without = TOPOLOGY.model_copy(
        update={"processes": {**TOPOLOGY.processes, "inference": inference}}
    )
    issues = lint_phase(phase, "phase-1", without, ACTIONS)
    assert issues == [
        "phase-1: upstream 'inference' declares dry_run: true, but process 'inference' does "
        "not declare the dry_run capability in topology bundled (it may write on a shadow copy)"
    ]


def test_the_topology_declares_the_dry_run_capability_of_each_service_that_honours_it() -> None:
    declared = {
        name for name, p in TOPOLOGY.processes.items() if Capability.DRY_RUN in p.capabilities
    }
    assert declared == {"inference", "ingestion", "chaos"}
    with pytest.raises(ValueError, match="capabilities"):
        ProcessDef.model_validate({"module": "x", "capabilities": ["teleport"]})


def test_phase_1_reads_every_decision_back_from_either_side(tmp_path: Path) -> None:
    phase = find_phase(1)
    steps = {step.name: step for step in phase.steps}
    urls = {"monolith": "http://127.0.0.1:1", "inference": "http://127.0.0.1:2"}
    canary = render_table(phase, urls, [p for s in phase.steps[:3] for p in s.set])
    audit = next(r for r in canary["routes"] if r["name"] == "prediction-audit")
    assert (audit["primary"], audit["read_fallback"]) == ("monolith", "inference")
    cut_over = render_table(phase, urls, [p for s in phase.steps for p in s.set])
    audit = next(r for r in cut_over["routes"] if r["name"] == "prediction-audit")
    assert (audit["primary"], audit["read_fallback"]) == ("inference", "monolith")
    read_back = [g for g in steps["canary-50"].gates if g.kind == "read-back"]
    assert [g.sides for g in read_back] == [("monolith", "inference")]

    document = _base()
    document["steps"][2]["gates"].append({"kind": "read-back", "sides": ["ghost"]})  # type: ignore[index]
    issues = lint_phase(load_phase(_write(tmp_path, document)), "p7", TOPOLOGY, ACTIONS)
    assert any("read-back side 'ghost' is not a process of the phase" in i for i in issues)
