"""The helpdesk monolith through Flask's test client, on a fresh SQLite file per test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from examples.helpdesk.monolith.app import create_app
from examples.helpdesk.monolith.settings import Settings


@pytest.fixture
def client(tmp_path: Path) -> FlaskClient:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'helpdesk.db'}"))
    return app.test_client()


def _file(client: FlaskClient, **overrides: Any) -> dict[str, Any]:
    body = {"customer_id": "cust-1", "subject": "printer on fire", "body": "again"} | overrides
    response = client.post("/api/tickets", json=body)
    assert response.status_code == 201, response.get_json()
    ticket: dict[str, Any] = response.get_json()
    return ticket


def test_a_filed_ticket_is_open_and_reads_back_the_same(client: FlaskClient) -> None:
    filed = _file(client)
    assert filed["status"] == "open" and filed["subject"] == "printer on fire"
    assert filed["created_at"].endswith("+00:00")
    found = client.get(f"/api/tickets/{filed['id']}")
    assert found.status_code == 200
    assert found.get_json() == filed


def test_listing_is_newest_first_and_filters_by_customer(client: FlaskClient) -> None:
    first = _file(client, customer_id="cust-a")
    _file(client, customer_id="cust-b")
    second = _file(client, customer_id="cust-a")
    listed = client.get("/api/tickets?customer_id=cust-a").get_json()["tickets"]
    assert [t["id"] for t in listed] == [second["id"], first["id"]]
    assert len(client.get("/api/tickets?limit=1").get_json()["tickets"]) == 1


@pytest.mark.parametrize("ticket_id", ["999", "not-a-number"])
def test_an_unknown_ticket_is_a_404_problem(client: FlaskClient, ticket_id: str) -> None:
    response = client.get(f"/api/tickets/{ticket_id}")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert response.get_json()["detail"] == f"no ticket {ticket_id}"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"customer_id": "cust-1"}, 422),
        ({"customer_id": "has space", "subject": "x"}, 422),
        ({"customer_id": "c", "subject": "x", "priority": "high"}, 422),
        ([1, 2], 400),
    ],
)
def test_a_bad_ticket_is_refused_with_a_problem(
    client: FlaskClient, body: object, status: int
) -> None:
    response = client.post("/api/tickets", json=body)
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    assert response.get_json()["status"] == status
    assert client.get("/api/tickets").get_json()["tickets"] == []


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_a_bad_limit_is_a_422_problem(client: FlaskClient, limit: str) -> None:
    response = client.get(f"/api/tickets?limit={limit}")
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"


def test_health_and_openapi(client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").get_json() == {"status": "ready"}
    document = client.get("/openapi.json").get_json()
    assert set(document["paths"]) >= {"/api/tickets", "/api/tickets/{ticket_id}"}
    assert document["components"]["schemas"]["Ticket"]["required"]
