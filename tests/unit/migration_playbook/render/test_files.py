"""The committed compose/ files are exactly what `kit render compose` renders, and valid."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs
import pytest
import yaml
from typer.testing import CliRunner

from migration_playbook.cli.app import app
from migration_playbook.phases.loader import load_phase, phase_files
from migration_playbook.render import RenderError, check_files, render_files
from migration_playbook.render.compose import render_compose
from migration_playbook.topology import load_topology

REPO = Path(__file__).resolve().parents[4]
SCHEMA = REPO / "compose/schemas/compose-spec.json"
TOPOLOGY = load_topology()
PHASES = [load_phase(path) for path in phase_files()]


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return render_files(TOPOLOGY, PHASES)


def test_committed_files_are_what_the_kit_renders(rendered: dict[str, str]) -> None:
    drifted = check_files(REPO, rendered)
    assert not drifted, f"run `kit render compose` and commit: {drifted}"


def test_no_stale_rendered_file_is_left_behind(rendered: dict[str, str]) -> None:
    kinds = ("compose/phase-*.yaml", "compose/routes/*.yaml", "compose/prometheus/*.yml",
             "compose/docker/*/Dockerfile", "compose/docker/*/requirements.txt")  # fmt: skip
    committed = {str(p.relative_to(REPO)) for kind in kinds for p in REPO.glob(kind)}
    assert committed <= set(rendered), committed - set(rendered)


def test_a_topology_change_without_rendering_is_caught(tmp_path: Path) -> None:
    changed = TOPOLOGY.model_copy(update={"env": {**TOPOLOGY.env, "LOG_LEVEL": "DEBUG"}}, deep=True)
    files = render_files(changed, PHASES[:1], images=False)
    assert "compose/phase-0.yaml" in check_files(REPO, files)


def test_every_phase_file_is_valid_against_the_compose_spec(rendered: dict[str, str]) -> None:
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()))
    for path, text in rendered.items():
        if path.startswith("compose/phase-"):
            errors = [
                f"{e.instance_path}: {e.message}"
                for e in validator.iter_errors(yaml.safe_load(text))
            ]
            assert not errors, (path, errors[:5])


def test_the_schema_catches_a_broken_compose_file() -> None:
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()))
    broken = render_compose(TOPOLOGY, PHASES[0])
    broken["services"]["proxy"]["ports"] = {"8000": "8000"}
    broken["services"]["proxy"]["restart_policy"] = "always"
    assert len(list(validator.iter_errors(broken))) >= 2


def test_each_phase_runs_its_processes_and_the_platform(rendered: dict[str, str]) -> None:
    for phase in PHASES:
        services = yaml.safe_load(rendered[f"compose/phase-{phase.phase}.yaml"])["services"]
        assert set(phase.processes) | {
            "rabbitmq",
            "postgres",
            "mlflow",
            "prometheus",
            "grafana",
        } <= set(services)
        assert not {"monolith", "legacy-sync"} & set(services) or phase.phase < 5


def test_secrets_are_referenced_never_inlined(rendered: dict[str, str]) -> None:
    proxy = yaml.safe_load(rendered["compose/phase-0.yaml"])["services"]["proxy"]
    assert proxy["environment"]["PROXY_JWT_SECRET"].startswith("${KIT_JWT_SECRET:?")
    for path, text in rendered.items():
        assert "guest:guest" not in text, path


def test_each_store_has_its_own_database(rendered: dict[str, str]) -> None:
    phase = yaml.safe_load(rendered["compose/phase-4.yaml"])["services"]
    urls = {name: s["environment"]["DATABASE_URL"] for name, s in phase.items()
            if "DATABASE_URL" in s.get("environment", {})}  # fmt: skip
    own = {name: url.rsplit("/", 1)[1] for name, url in urls.items()}
    assert own["inference"] == "inference" and own["ingestion"] == "ingestion"
    assert own["legacy-sync"] == own["monolith"] == "monolith"
    sql = rendered["compose/postgres/init/01-databases.sql"]
    for store in TOPOLOGY.stores:
        assert f"CREATE DATABASE {store};" in sql


def test_the_proxy_gets_the_phase_table_with_container_urls(rendered: dict[str, str]) -> None:
    table = yaml.safe_load(rendered["compose/routes/phase-1.yaml"])
    assert table["upstreams"]["inference"]["url"] == "http://inference:8102"
    assert table["upstreams"]["monolith"]["url"] == "http://monolith:5000"


def test_a_process_without_an_image_is_refused() -> None:
    phase = PHASES[0].model_copy(update={"processes": ("monolith", "proxy", "chaos")})
    with pytest.raises(RenderError, match="chaos: the kit has no container image"):
        render_compose(TOPOLOGY, phase)


def test_kit_render_compose_check_passes_on_the_committed_files() -> None:
    result = CliRunner().invoke(app, ["render", "compose", "--phase", "0", "--check"])
    assert result.exit_code == 0, result.output


def test_kit_render_compose_check_fails_on_a_drifted_copy(tmp_path: Path) -> None:
    runner = CliRunner()
    assert (
        runner.invoke(app, ["render", "compose", "--phase", "0", "--out", str(tmp_path)]).exit_code
        == 0
    )
    path = tmp_path / "compose/phase-0.yaml"
    path.write_text(path.read_text().replace("5000", "5001"))
    result = runner.invoke(
        app, ["render", "compose", "--phase", "0", "--out", str(tmp_path), "--check"]
    )
    assert result.exit_code == 1
    assert "compose/phase-0.yaml" in result.output


def test_consumer_replicas_become_competing_consumer_services() -> None:
    training = TOPOLOGY.processes["training"].model_copy(update={"replicas": 3})
    topology = TOPOLOGY.model_copy(
        update={"processes": {**TOPOLOGY.processes, "training": training}}
    )
    services = render_compose(topology, PHASES[3])["services"]
    replicas = sorted(name for name in services if name.startswith("training-replica-"))
    assert replicas == ["training-replica-1", "training-replica-2"]
    replica = services["training-replica-1"]
    assert replica["command"] == [*services["training"]["command"], "consume"]
    assert (
        replica["environment"]["DATABASE_URL"]
        == services["training"]["environment"]["DATABASE_URL"]
    )
    assert "ports" not in replica


def test_mlflow_runs_the_topology_command_against_its_own_database() -> None:
    mlflow = render_compose(TOPOLOGY, PHASES[1])["services"]["mlflow"]
    command = mlflow["command"]
    assert command[:2] == ["/opt/venv/bin/mlflow", "server"]
    assert command[command.index("--backend-store-uri") + 1].endswith("@postgres:5432/mlflow")
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert mlflow["environment"]["PORT"] == command[command.index("--port") + 1]
