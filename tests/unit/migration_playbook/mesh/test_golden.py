"""Every phase's tables, exported for Istio and Gateway API: the committed files are what
the exporter produces, and every resource in them is valid against the vendored CRDs."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from migration_playbook.mesh import golden
from migration_playbook.mesh.schemas import schema_errors
from migration_playbook.phases.loader import phase_files

EXPECTED = golden.generated_files()


def test_committed_exports_are_up_to_date() -> None:
    stale = golden.stale_files(EXPECTED) + golden.orphan_files(EXPECTED)
    assert not stale, f"run `kit routes export-phases` and commit: {[str(p) for p in stale]}"


def test_every_phase_and_step_has_both_platforms() -> None:
    phases = {int(p.name.split("-")[1]) for p in phase_files()}
    folders = {int(p.parent.name.split("-")[1]) for p in EXPECTED}
    assert folders == phases
    for path in EXPECTED:
        if path.name.endswith(".istio.yaml"):
            twin = path.with_name(path.name.replace(".istio.", ".gateway-api."))
            assert twin in EXPECTED


def test_a_changed_phase_table_is_drift(monkeypatch: pytest.MonkeyPatch) -> None:
    changed = {
        path: text.replace("weight: 10\n", "weight: 11\n") for path, text in EXPECTED.items()
    }
    assert set(golden.stale_files(changed)) == {p for p in EXPECTED if EXPECTED[p] != changed[p]}
    assert golden.stale_files(changed)  # phase 1's canary-10 holds a weight of 10


@pytest.mark.parametrize("path", sorted(EXPECTED), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_resource_is_schema_valid(path: Path) -> None:
    documents = [d for d in yaml.safe_load_all(EXPECTED[path]) if d is not None]
    assert documents
    for document in documents:
        assert schema_errors(document) == []


def test_the_schemas_catch_a_misspelt_or_mistyped_field() -> None:
    path = next(p for p in EXPECTED if p.parent.name == "phase-1" and "shadow.istio" in p.name)
    vs = next(d for d in yaml.safe_load_all(EXPECTED[path]) if d and d["kind"] == "VirtualService")
    typo = copy.deepcopy(vs)
    typo["spec"]["http"][0]["mirrorPercentge"] = {"value": 10}
    assert any("mirrorPercentge" in e for e in schema_errors(typo))
    wrong = copy.deepcopy(vs)
    wrong["spec"]["http"][0]["route"][0]["weight"] = "ten"
    assert schema_errors(wrong)
    route_path = next(p for p in EXPECTED if "shadow.gateway-api" in p.name)
    route = next(yaml.safe_load_all(EXPECTED[route_path]) for _ in [0])
    http_route = next(d for d in route if d)
    http_route["spec"]["rules"][0]["matches"][0]["path"]["type"] = "Glob"
    assert any("Glob" in e for e in schema_errors(http_route))
    assert schema_errors({"apiVersion": "v1", "kind": "Service"}) == [
        "no vendored schema for Service v1"
    ]
