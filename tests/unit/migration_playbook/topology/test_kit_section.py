"""The topology's ``kit:`` section: a migration's own files and hooks, bundled by default."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from migration_playbook.orchestration.actions import ACTIONS, actions_for
from migration_playbook.phases.loader import LOADTESTS_DIR, PHASES_DIR, loadtests_dir, phases_dir
from migration_playbook.topology import (
    HookError,
    TopologyError,
    lint_topology,
    load_hook,
    load_topology,
)

_MINIMAL = {
    "name": "mine",
    "processes": {"app": {"module": "my_app", "url": "http://127.0.0.1:9001"}},
}


def _write(tmp_path: Path, **kit: object) -> Path:
    path = tmp_path / "topology.yaml"
    path.write_text(yaml.safe_dump({**_MINIMAL, **({"kit": kit} if kit else {})}))
    return path


def test_without_a_kit_section_everything_is_the_bundled_migrations(tmp_path: Path) -> None:
    topology = load_topology(_write(tmp_path))
    assert phases_dir(topology) == PHASES_DIR
    assert loadtests_dir(topology) == LOADTESTS_DIR
    assert topology.kit.pacts == () and topology.kit.provider_states is None
    assert actions_for(topology) == ACTIONS
    assert lint_topology(topology, "topology.yaml") == []


def test_paths_are_read_from_the_topology_files_folder(tmp_path: Path) -> None:
    (tmp_path / "phases").mkdir()
    (tmp_path / "k6").mkdir()
    (tmp_path / "pact.json").write_text("{}")
    topology = load_topology(_write(tmp_path, phases="phases", loadtests="k6", pacts=["pact.json"]))
    assert phases_dir(topology) == tmp_path / "phases"
    assert loadtests_dir(topology) == tmp_path / "k6"
    assert topology.kit.pacts == (str(tmp_path / "pact.json"),)
    # KIT_PHASES_DIR (the override) wins over the file
    assert phases_dir(topology, tmp_path / "other") == tmp_path / "other"
    assert lint_topology(topology, "topology.yaml") == []


def test_lint_names_missing_files_and_hooks_that_do_not_import(tmp_path: Path) -> None:
    topology = load_topology(
        _write(
            tmp_path,
            phases="nowhere",
            pacts=["missing.json"],
            traffic="migration_playbook.traffic:no_such_function",
            actions={"seed": "no_such_package.module:seed"},
        )
    )
    issues = "\n".join(lint_topology(topology, "topology.yaml"))
    assert "kit.phases" in issues and "is not a folder" in issues
    assert "kit.pacts" in issues and "missing.json is not a file" in issues
    assert "kit.traffic: migration_playbook.traffic has no 'no_such_function'" in issues
    assert "kit.actions.seed: cannot import 'no_such_package.module'" in issues


def test_a_hook_must_be_named_module_colon_attribute(tmp_path: Path) -> None:
    with pytest.raises(TopologyError) as caught:
        load_topology(_write(tmp_path, traffic="migration_playbook.traffic.drive_sync"))
    assert "package.module:attribute" in str(caught.value)


def test_load_hook_imports_callables_only() -> None:
    from migration_playbook.traffic import drive_sync

    assert load_hook("migration_playbook.traffic:drive_sync") is drive_sync
    with pytest.raises(HookError, match="not callable"):
        load_hook("migration_playbook.phases.loader:PHASES_DIR")


def test_a_topologys_actions_join_the_kits_own(tmp_path: Path) -> None:
    topology = load_topology(
        _write(tmp_path, actions={"seed-tickets": "examples.helpdesk.kit.actions:seed_tickets"})
    )
    actions = actions_for(topology)
    assert set(actions) == {*ACTIONS, "seed-tickets"}
    assert actions["seed-tickets"].__name__ == "seed_tickets"
