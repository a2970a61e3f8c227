"""The training worker's HTTP front answers every error as problem+json with the bodies the
monolith answers for the same requests (``service_runtime.problems_nameko``), and an
unreachable registry as its 503 problem."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient
from nameko.containers import ServiceContainer

from contracts.problems import PROBLEM_CONTENT_TYPE
from extracted_services.training.service import TrainingService
from extracted_services.training.settings import Settings
from legacy_monolith import create_app
from legacy_monolith.settings import Settings as MonolithSettings
from migration_playbook.runner.process import free_port
from tests.amqp_support import fresh_vhost

RUNS = "/api/v1/models/training-runs"
JSON = "application/json"


@pytest.fixture()
def training(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'training.db'}",
        # Nothing listens there: the registry is unreachable.
        mlflow_tracking_uri=f"http://127.0.0.1:{free_port()}",
        min_rows=200,
    )
    with fresh_vhost("kit-training-problems") as uri:
        container = ServiceContainer(
            TrainingService,
            config={
                "AMQP_URI": uri,
                "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
                "TRAINING_SETTINGS": settings,
            },
        )
        container.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            container.stop()


@pytest.fixture()
def monolith(tmp_path: Path) -> Iterator[FlaskClient]:
    app = create_app(
        MonolithSettings(
            database_url=f"sqlite:///{tmp_path / 'monolith.db'}",
            model_dir=tmp_path / "models",
            log_json=False,
            torch_threads=1,
            min_training_rows=200,
        )
    )
    try:
        yield app.test_client()
    finally:
        app.extensions["monolith"].training.stop()
        app.extensions["monolith"].db.dispose()


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{}", "text/plain", 415),
        (b"{not json", JSON, 400),
        (b'{"epochs": 0, "colour": "red"}', JSON, 422),
        (b"{}", JSON, 409),  # nothing to train on: not-enough-data
    ],
)
def test_a_refused_run_is_the_monoliths_problem(
    training: str, monolith: FlaskClient, body: bytes, content_type: str, status: int
) -> None:
    answer = requests.post(
        training + RUNS, data=body, headers={"Content-Type": content_type}, timeout=5
    )
    expected = monolith.post(RUNS, data=body, content_type=content_type)
    assert expected.status_code == status
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert answer.json() == expected.get_json()


def test_an_unreachable_registry_is_a_503_problem(training: str) -> None:
    answer = requests.get(training + "/api/v1/models", timeout=30)
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == PROBLEM_CONTENT_TYPE
    problem = answer.json()
    assert problem["type"].endswith("/registry-unavailable")
    assert problem["instance"] == "/api/v1/models"
    assert "Traceback" not in answer.text


def test_routing_errors_are_problems(training: str) -> None:
    unknown = requests.get(training + "/api/v1/models/1/nothing", timeout=5)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM_CONTENT_TYPE
    wrong = requests.delete(training + RUNS, timeout=5)
    assert wrong.status_code == 405
    assert wrong.json()["type"].endswith("/method-not-allowed")
