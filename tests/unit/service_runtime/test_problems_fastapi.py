"""The FastAPI installer on a tiny app: every kind of error becomes the problem it names."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from contracts.payloads import parse_model
from contracts.problems import PROBLEM_CONTENT_TYPE
from contracts.registry import TrainingRunRequest
from service_runtime.problems import Conflict, NotFound, PayloadTooLarge, ServiceUnavailable
from service_runtime.problems_fastapi import install_problem_handlers

BASE = "https://ai-migration-kit.dev/problems/"


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/missing")
    def missing() -> None:
        raise NotFound("no such thing")

    @app.get("/busy")
    def busy() -> None:
        raise ServiceUnavailable("the broker is away", retry_after_s=7)

    @app.get("/conflict")
    def conflict() -> None:
        raise Conflict("same id, other body")

    @app.get("/large")
    def large() -> None:
        raise PayloadTooLarge()

    @app.get("/payload")
    def payload() -> None:
        parse_model(TrainingRunRequest, b"{not json")

    @app.get("/window")
    def window(size: int) -> int:
        return size

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret connection string postgres://u:p@h/db")

    return app


@pytest.fixture()
def client() -> TestClient:
    return TestClient(_app(), raise_server_exceptions=False)


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    body = response.json()
    assert body["status"] == status
    return body


def test_a_service_error_is_its_problem_with_its_headers(client: TestClient) -> None:
    assert _problem(client.get("/missing"), 404) == {
        "type": BASE + "not-found",
        "title": "Not found",
        "status": 404,
        "detail": "no such thing",
        "instance": "/missing",
    }
    busy = client.get("/busy")
    assert _problem(busy, 503)["type"] == BASE + "unavailable"
    assert busy.headers["retry-after"] == "7"
    assert _problem(client.get("/conflict"), 409)["title"] == "Conflict"
    large = _problem(client.get("/large"), 413)
    assert large["detail"] == "The data value transmitted exceeds the capacity limit."


def test_a_refused_body_is_the_monoliths_400(client: TestClient) -> None:
    body = _problem(client.get("/payload"), 400)
    assert body["type"] == BASE + "malformed-json" and body["title"] == "Malformed JSON"


def test_fastapis_own_validation_is_a_422_with_field_errors(client: TestClient) -> None:
    body = _problem(client.get("/window?size=abc"), 422)
    assert body["type"] == BASE + "validation"
    assert body["title"] == "Request validation failed"
    assert body["errors"][0]["field"] == "query.size"
    assert body["detail"].startswith("query.size: ")


def test_starlettes_own_errors_are_named_as_the_monolith_names_them(client: TestClient) -> None:
    unknown = _problem(client.get("/nowhere"), 404)
    assert unknown["type"] == BASE + "not-found" and unknown["title"] == "Not Found"
    wrong = client.post("/missing")
    assert _problem(wrong, 405)["type"] == BASE + "method-not-allowed"
    assert wrong.headers["allow"] == "GET"


def test_an_unexpected_error_is_a_logged_500_that_leaks_nothing(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        body = _problem(client.get("/boom"), 500)
    assert body == {
        "type": BASE + "internal",
        "title": "Internal error",
        "status": 500,
        "detail": "The server failed to handle the request; it has been logged.",
        "instance": "/boom",
    }
    assert "postgres://" not in str(body)
    assert any(r.exc_info and "secret connection" in str(r.exc_info[1]) for r in caplog.records)
