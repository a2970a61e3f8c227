"""Session fixtures of the inference tests, a pytest plugin (``tests/conftest.py`` loads it)
so that integration and contract tests share ONE MLflow server and ONE trained monolith.

The monolith (in-process, its own SQLite file and model folder) gets two models trained on
generated traffic: version 1 serves and is exported to the registry as ``risk-scorer``
with alias ``champion``; version 2 is exported too (alias ``challenger``) for promotions.
Heavy imports (torch, the monolith, MLflow) happen inside the fixtures, only when used.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from migration_playbook.datamoves.model_export import ExportResult


@dataclass(frozen=True)
class Registry:
    """The session's MLflow server and what was exported into it."""

    tracking_uri: str
    root: Path
    champion: ExportResult  # monolith v1 -> risk-scorer/1, alias champion
    challenger: ExportResult  # monolith v2 -> risk-scorer/2, alias challenger


@dataclass(frozen=True)
class Monolith:
    app: Any  # the monolith's Flask app
    database_url: str
    model_dir: Path


@pytest.fixture(scope="session")
def inference_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("inference")


@pytest.fixture(scope="session")
def monolith(inference_root: Path) -> Iterator[Monolith]:
    """The monolith with model v1 serving and v2 registered (trained once per session)."""
    from datetime import UTC, datetime

    import numpy as np

    from contracts.features import transform_many
    from contracts.registry import DataWindow
    from datagen import generate
    from legacy_monolith import create_app
    from legacy_monolith.settings import Settings as MonolithSettings
    from riskmodel.trainer import train_model

    database_url = f"sqlite:///{inference_root / 'monolith.db'}"
    model_dir = inference_root / "monolith-models"
    app = create_app(
        MonolithSettings(
            database_url=database_url,
            model_dir=model_dir,
            log_json=False,
            log_level="WARNING",
            torch_threads=1,
        )
    )
    registry = app.extensions["monolith"].registry
    window = DataWindow(
        start=datetime(2026, 1, 5, tzinfo=UTC), end=datetime(2026, 1, 9, tzinfo=UTC), rows=6000
    )
    for seed in (11, 12):
        transactions = generate(6000, seed=seed)
        labels = np.array([bool(t.is_fraud) for t in transactions])
        result = train_model(transform_many(transactions), labels, epochs=4, seed=seed)
        registry.register(result, window, None)
    registry.promote(1)
    yield Monolith(app, database_url, model_dir)
    services = app.extensions["monolith"]
    services.training.stop()
    services.db.dispose()


@pytest.fixture(scope="session")
def registry(inference_root: Path, monolith: Monolith) -> Iterator[Registry]:
    """A real ``mlflow server`` with the monolith's two models registered."""
    from migration_playbook.datamoves.model_export import export_monolith_model
    from migration_playbook.runner.mlflow_server import MlflowServer
    from migration_playbook.runner.process import free_port

    server = MlflowServer(inference_root / "mlflow", free_port())
    server.start()
    try:
        champion = export_monolith_model(monolith.database_url, monolith.model_dir, server.url)
        challenger = export_monolith_model(
            monolith.database_url, monolith.model_dir, server.url, version=2, alias="challenger"
        )
        yield Registry(server.url, server.root, champion, challenger)
    finally:
        server.stop()
