"""The nameko workers' HTTP fronts answer every error as problem+json
(``service_runtime.problems_nameko``), with the very bodies the monolith answers for the
same requests: monitoring's bad ``window`` and failing store, training's refused runs and
unreachable registry, and routing's own 404 and 405 on both."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from flask.testing import FlaskClient
from nameko.containers import ServiceContainer
from sqlalchemy import text

from contracts.problems import PROBLEM_CONTENT_TYPE
from extracted_services.monitoring import settings as monitoring_settings
from extracted_services.monitoring.service import MonitoringService
from extracted_services.monitoring.store import Database
from extracted_services.training import settings as training_settings
from extracted_services.training.http import MAX_BODY_BYTES
from extracted_services.training.service import TrainingService
from legacy_monolith import create_app
from legacy_monolith.settings import Settings as MonolithSettings
from migration_playbook.runner.process import free_port
from tests.amqp_support import fresh_vhost

DRIFT = "/api/v1/monitoring/drift"
RUNS = "/api/v1/models/training-runs"
JSON = "application/json"
BAD_WINDOWS = ("abc", "0", "49", "100001", "-5", "", "1e3", "²", "9" * 5000)


@contextmanager
def _worker(service: type, settings_key: str, settings: Any) -> Iterator[str]:
    """``service`` in a container on a fresh vhost; yields its base URL."""
    port = free_port()
    with fresh_vhost(f"kit-{service.name}-problems") as uri:  # type: ignore[attr-defined]
        container = ServiceContainer(
            service,
            config={
                "AMQP_URI": uri,
                "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
                settings_key: settings,
            },
        )
        container.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            container.stop()


@pytest.fixture()
def monitoring(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The monitoring worker's base URL and its database URL."""
    database_url = f"sqlite:///{tmp_path / 'monitoring.db'}"
    settings = monitoring_settings.Settings(database_url=database_url)
    with _worker(MonitoringService, "MONITORING_SETTINGS", settings) as base:
        yield base, database_url


@pytest.fixture()
def training(tmp_path: Path) -> Iterator[str]:
    settings = training_settings.Settings(
        database_url=f"sqlite:///{tmp_path / 'training.db'}",
        # Nothing listens there: the registry is unreachable.
        mlflow_tracking_uri=f"http://127.0.0.1:{free_port()}",
        min_rows=200,
    )
    with _worker(TrainingService, "TRAINING_SETTINGS", settings) as base:
        yield base


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


def _is_problem(answer: requests.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM_CONTENT_TYPE
    body: dict[str, Any] = answer.json()
    return body


# -- monitoring ------------------------------------------------------------------------------


def test_a_bad_window_is_the_monoliths_422(
    monitoring: tuple[str, str], monolith: FlaskClient
) -> None:
    base, _ = monitoring
    for window in BAD_WINDOWS:
        query = f"{DRIFT}?window={quote(window)}"
        answer = requests.get(base + query, timeout=5)
        expected = monolith.get(query)
        assert expected.status_code == 422, window
        problem = _is_problem(answer, 422)
        assert problem == expected.get_json(), window
        assert problem["errors"][0]["field"] == "window"
    assert requests.get(f"{base}{DRIFT}?window=50", timeout=5).status_code == 200


def test_a_failing_store_is_a_500_problem_that_leaks_nothing(
    monitoring: tuple[str, str],
) -> None:
    base, database_url = monitoring
    assert requests.get(base + DRIFT, timeout=5).status_code == 200
    store = Database(database_url)
    try:
        with store.session() as session:  # the store breaks under the running worker
            session.execute(text('DROP TABLE "predictions"'))
    finally:
        store.dispose()

    answer = requests.get(base + DRIFT, timeout=5)

    assert _is_problem(answer, 500) == {
        "type": "https://ai-migration-kit.dev/problems/internal",
        "title": "Internal error",
        "status": 500,
        "detail": "The server failed to handle the request; it has been logged.",
        "instance": DRIFT,
    }
    for leak in ("Traceback", "OperationalError", "predictions", "sqlite"):
        assert leak not in answer.text


def test_monitoring_routing_errors_are_problems(monitoring: tuple[str, str]) -> None:
    base, _ = monitoring
    unknown = _is_problem(requests.get(f"{base}/api/v1/monitoring/nothing", timeout=5), 404)
    assert unknown["type"].endswith("/not-found")
    assert unknown["instance"] == "/api/v1/monitoring/nothing"
    wrong = requests.post(base + DRIFT, timeout=5)
    assert _is_problem(wrong, 405)["type"].endswith("/method-not-allowed")
    assert "GET" in wrong.headers["allow"]


# -- training --------------------------------------------------------------------------------


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
    assert _is_problem(answer, status) == expected.get_json()


def test_an_unreachable_registry_is_a_503_problem(training: str) -> None:
    answer = requests.get(training + "/api/v1/models", timeout=30)
    problem = _is_problem(answer, 503)
    assert problem["type"].endswith("/registry-unavailable")
    assert problem["instance"] == "/api/v1/models"
    assert "Traceback" not in answer.text


def test_training_routing_errors_are_problems(training: str) -> None:
    unknown = _is_problem(requests.get(training + "/api/v1/models/1/nothing", timeout=5), 404)
    assert unknown["instance"] == "/api/v1/models/1/nothing"
    wrong = _is_problem(requests.delete(training + RUNS, timeout=5), 405)
    assert wrong["type"].endswith("/method-not-allowed")


def test_an_oversized_training_request_is_a_413_problem(training: str) -> None:
    body = b'{"epochs": 1, "pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    answer = requests.post(training + RUNS, data=body, headers={"Content-Type": JSON}, timeout=10)
    problem = _is_problem(answer, 413)
    assert problem["instance"] == RUNS
