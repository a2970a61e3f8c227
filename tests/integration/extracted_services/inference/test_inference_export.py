"""``kit model export-monolith``: the monolith's model lands in the registry with lineage,
the reference distribution, the ``champion`` alias, and loads back without the monolith's
class as a module that scores exactly like the monolith's network."""

from __future__ import annotations

import numpy as np
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from contracts.features import FEATURE_SPEC_VERSION, transform_many
from datagen import generate
from migration_playbook.cli import model
from riskmodel.scoring import explain_rows
from tests.inference_fixtures import Monolith, Registry


def test_export_registers_lineage_reference_and_alias(
    registry: Registry, monolith: Monolith
) -> None:
    import mlflow

    client = MlflowClient(registry.tracking_uri)
    champion = client.get_model_version_by_alias("risk-scorer", "champion")
    assert str(champion.version) == registry.champion.registry_version
    tags = champion.tags
    assert tags["feature_spec_version"] == FEATURE_SPEC_VERSION
    assert tags["monolith_version"] == "1" and tags["source"] == "legacy_monolith"
    assert float(tags["metric.roc_auc"]) > 0.5 and int(tags["data_window_rows"]) == 6000
    artifacts = {a.path for a in client.list_artifacts(champion.run_id or "", "reference")}
    assert {"reference/reference_features.npy", "reference/meta.json"} <= artifacts

    mlflow.set_tracking_uri(registry.tracking_uri)
    loaded = mlflow.pytorch.load_model(f"models:/risk-scorer/{champion.version}")
    assert "RiskNet" not in type(loaded).__name__  # no monolith class needed
    features = transform_many(generate(50, seed=3))
    network = monolith.app.extensions["monolith"].registry.serving().network
    ours, theirs = explain_rows(loaded, features), explain_rows(network, features)
    assert np.array_equal(ours[0], theirs[0]) and np.array_equal(ours[1], theirs[1])


def test_export_command_is_idempotent(registry: Registry, monolith: Monolith) -> None:
    before = len(MlflowClient(registry.tracking_uri).search_model_versions("name='risk-scorer'"))
    arguments = ["export-monolith", "--database-url", monolith.database_url]
    arguments += ["--model-dir", str(monolith.model_dir), "--tracking-uri", registry.tracking_uri]
    result = CliRunner().invoke(model.app, [*arguments, "--alias", "champion"])
    assert result.exit_code == 0, result.output
    assert "already registered as models:/risk-scorer/1" in result.output
    after = len(MlflowClient(registry.tracking_uri).search_model_versions("name='risk-scorer'"))
    assert after == before
