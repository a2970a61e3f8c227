"""tickets-read answers the monolith's reads exactly as the monolith does (same database,
same bodies, same problems): what the proxy's shadow comparison relies on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from flask.testing import FlaskClient

from examples.helpdesk.monolith.app import create_app as create_monolith
from examples.helpdesk.monolith.settings import Settings as MonolithSettings
from examples.helpdesk.tickets_read.app import create_app
from examples.helpdesk.tickets_read.settings import Settings


@pytest.fixture
def both(tmp_path: Path) -> Iterator[tuple[FlaskClient, TestClient]]:
    url = f"sqlite:///{tmp_path / 'helpdesk.db'}"
    monolith = create_monolith(MonolithSettings(database_url=url)).test_client()
    with TestClient(create_app(Settings(database_url=url))) as service:
        yield monolith, service


@pytest.mark.parametrize(
    "path",
    [
        "/api/tickets/1",
        "/api/tickets/2",
        "/api/tickets/999",
        "/api/tickets/abc",
        "/api/tickets",
        "/api/tickets?customer_id=cust-b",
        "/api/tickets?limit=1",
        "/api/tickets?limit=0",
        "/api/tickets?limit=ten",
    ],
)
def test_reads_answer_like_the_monolith(both: tuple[FlaskClient, TestClient], path: str) -> None:
    monolith, service = both
    for customer in ("cust-a", "cust-b"):
        monolith.post("/api/tickets", json={"customer_id": customer, "subject": "hi"})
    expected, got = monolith.get(path), service.get(path)
    assert got.status_code == expected.status_code
    assert got.headers["content-type"] == expected.content_type
    assert got.json() == expected.get_json()


def test_a_bad_limit_is_a_422_problem(both: tuple[FlaskClient, TestClient]) -> None:
    _, service = both
    response = service.get("/api/tickets?limit=500")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_it_files_nothing(both: tuple[FlaskClient, TestClient]) -> None:
    _, service = both
    assert (
        service.post("/api/tickets", json={"customer_id": "c", "subject": "s"}).status_code == 405
    )


def test_not_ready_until_the_monolith_made_its_table(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}"))) as c:
        response = c.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
