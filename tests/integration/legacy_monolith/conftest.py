"""The real monolith app on a fresh database per test, on SQLite and on PostgreSQL.

PostgreSQL: every test gets its own schema in the test database (``tests/postgres_support``:
``TEST_POSTGRES_URL``, else the kit's credentials file), selected with the ``search_path``
connection option so the monolith's own URL handling is exercised, dropped with CASCADE
afterwards. An unreachable server fails the test, it is never skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient

from contracts.features import transform_many
from contracts.registry import DataWindow
from datagen import generate
from legacy_monolith import create_app
from legacy_monolith.settings import Settings
from riskmodel.trainer import TrainingResult, train_model
from tests.integration.legacy_monolith._support import AppFactory
from tests.postgres_support import fresh_schema

MODEL_SEED = 11  # the generator seed of the shared model's training data


@pytest.fixture(
    params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a temp SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'monolith.db'}"
        return
    with fresh_schema("t") as url:
        yield url


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[AppFactory]:
    """Factory of monolith apps on this test's database; ``**overrides`` go to Settings."""
    apps: list[Flask] = []

    def _make(**overrides: Any) -> Flask:
        options: dict[str, Any] = {
            "database_url": database_url,
            "model_dir": tmp_path / "models",
            "log_json": False,
            "log_level": "WARNING",
            "torch_threads": 1,
        }
        options.update(overrides)
        app = create_app(Settings(**options))
        apps.append(app)
        return app

    yield _make
    for app in apps:
        services = app.extensions["monolith"]
        services.training.stop()
        services.db.dispose()


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def trained_result() -> TrainingResult:
    """One model for the whole session, trained in-process on generated traffic."""
    transactions = generate(8000, seed=MODEL_SEED)
    labels = np.array([bool(t.is_fraud) for t in transactions])
    return train_model(transform_many(transactions), labels, epochs=6, seed=0)


def install_model(app: Flask, result: TrainingResult) -> str:
    """Register ``result`` as a new version and promote it through the public API."""
    registry = app.extensions["monolith"].registry
    window = DataWindow(
        start=datetime(2026, 1, 5, tzinfo=UTC), end=datetime(2026, 1, 9, tzinfo=UTC), rows=8000
    )
    version = registry.register(result, window, None)
    response = app.test_client().post(f"/api/v1/models/{version}/promote")
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(version)


@pytest.fixture
def serving_app(app: Flask, trained_result: TrainingResult) -> Flask:
    """A monolith with the session's model serving as version 1."""
    install_model(app, trained_result)
    return app


@pytest.fixture
def serving_client(serving_app: Flask) -> FlaskClient:
    return serving_app.test_client()
