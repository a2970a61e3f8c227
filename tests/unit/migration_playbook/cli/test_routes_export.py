"""``kit routes export`` and ``kit routes export-phases`` with typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from migration_playbook.cli.app import app
from migration_playbook.mesh import golden
from migration_playbook.mesh.schemas import schema_errors

EXAMPLE = Path(__file__).parents[4] / "strangler_proxy" / "examples" / "routes.yaml"
SERVICES = ["--service", "monolith=monolith:5000", "--service", "inference=inference:8102"]
runner = CliRunner()


def test_export_istio_writes_valid_resources_and_lists_the_gaps(tmp_path: Path) -> None:
    out = tmp_path / "mesh.yaml"
    result = runner.invoke(
        app, ["routes", "export", "istio", str(EXAMPLE), "-o", str(out), *SERVICES]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text()
    documents = [d for d in yaml.safe_load_all(text) if d]
    assert [d["kind"] for d in documents] == [
        "DestinationRule",
        "DestinationRule",
        "VirtualService",
    ]
    assert all(schema_errors(d) == [] for d in documents)
    assert "#   predictions: sticky split:" in text
    assert "predictions: SLO rollback" in " ".join(result.output.split())


def test_export_gateway_api_to_stdout() -> None:
    result = runner.invoke(
        app, ["routes", "export", "gateway-api", str(EXAMPLE), "--gateway", "edge", *SERVICES]
    )
    assert result.exit_code == 0, result.output
    assert "kind: HTTPRoute" in result.output
    assert "type: RequestMirror" in result.output


def test_export_refuses_an_address_without_a_service_mapping() -> None:
    result = runner.invoke(app, ["routes", "export", "istio", str(EXAMPLE)])
    assert result.exit_code == 1
    assert "--service monolith=HOST:PORT" in " ".join(result.output.split())


def test_export_refuses_an_unknown_upstream_mapping() -> None:
    result = runner.invoke(
        app, ["routes", "export", "istio", str(EXAMPLE), "--service", "nope=x:1"]
    )
    assert result.exit_code == 1
    assert "--service nope=x:1" in result.output


def test_export_phases_check_passes_on_the_committed_files() -> None:
    result = runner.invoke(app, ["routes", "export-phases", "--check"])
    assert result.exit_code == 0, result.output
    assert f"{len(golden.generated_files())} files up to date" in result.output
