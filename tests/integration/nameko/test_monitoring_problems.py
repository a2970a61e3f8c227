"""The monitoring worker's HTTP front answers every error as problem+json: a bad ``window``
with the very body the monolith answers for the same query, a failing store with a 500
that leaks nothing, routing's own 404 and 405 as problems (``service_runtime.problems_nameko``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from flask.testing import FlaskClient
from nameko.containers import ServiceContainer
from sqlalchemy import text

from contracts.problems import PROBLEM_CONTENT_TYPE
from extracted_services.monitoring.service import MonitoringService
from extracted_services.monitoring.settings import Settings
from extracted_services.monitoring.store import Database
from legacy_monolith import create_app
from legacy_monolith.settings import Settings as MonolithSettings
from migration_playbook.runner.process import free_port
from tests.amqp_support import fresh_vhost

PATH = "/api/v1/monitoring/drift"
BAD_WINDOWS = ("abc", "0", "49", "100001", "-5", "", "1e3", "²", "9" * 5000)


@pytest.fixture()
def monitoring(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A monitoring worker on a fresh vhost: its base URL and its database URL."""
    port = free_port()
    database_url = f"sqlite:///{tmp_path / 'monitoring.db'}"
    with fresh_vhost("kit-monitoring-problems") as uri:
        container = ServiceContainer(
            MonitoringService,
            config={
                "AMQP_URI": uri,
                "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
                "MONITORING_SETTINGS": Settings(database_url=database_url),
            },
        )
        container.start()
        try:
            yield f"http://127.0.0.1:{port}", database_url
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
        )
    )
    try:
        yield app.test_client()
    finally:
        app.extensions["monolith"].training.stop()
        app.extensions["monolith"].db.dispose()


def test_a_bad_window_is_the_monoliths_422(
    monitoring: tuple[str, str], monolith: FlaskClient
) -> None:
    base, _ = monitoring
    for window in BAD_WINDOWS:
        query = f"{PATH}?window={quote(window)}"
        answer = requests.get(base + query, timeout=5)
        expected = monolith.get(query)
        assert expected.status_code == 422, window
        assert answer.status_code == 422, (window, answer.text)
        assert answer.headers["content-type"] == PROBLEM_CONTENT_TYPE
        assert answer.json() == expected.get_json(), window
        assert answer.json()["errors"][0]["field"] == "window"
    assert requests.get(f"{base}{PATH}?window=50", timeout=5).status_code == 200


def test_a_failing_store_is_a_500_problem_that_leaks_nothing(
    monitoring: tuple[str, str],
) -> None:
    base, database_url = monitoring
    assert requests.get(base + PATH, timeout=5).status_code == 200
    store = Database(database_url)
    try:
        with store.session() as session:  # the store breaks under the running worker
            session.execute(text('DROP TABLE "predictions"'))
    finally:
        store.dispose()

    answer = requests.get(base + PATH, timeout=5)

    assert answer.status_code == 500
    assert answer.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert answer.json() == {
        "type": "https://ai-migration-kit.dev/problems/internal",
        "title": "Internal error",
        "status": 500,
        "detail": "The server failed to handle the request; it has been logged.",
        "instance": PATH,
    }
    for leak in ("Traceback", "OperationalError", "predictions", "sqlite"):
        assert leak not in answer.text


def test_routing_errors_are_problems(monitoring: tuple[str, str]) -> None:
    base, _ = monitoring
    unknown = requests.get(f"{base}/api/v1/monitoring/nothing", timeout=5)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert unknown.json()["type"].endswith("/not-found")
    assert unknown.json()["instance"] == "/api/v1/monitoring/nothing"
    wrong = requests.post(base + PATH, timeout=5)
    assert wrong.status_code == 405
    assert wrong.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert wrong.json()["type"].endswith("/method-not-allowed")
    assert "GET" in wrong.headers["allow"]
