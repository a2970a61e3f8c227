"""The Flask installer on a tiny app: every kind of error becomes the problem it names."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

from contracts.payloads import parse_model
from contracts.problems import PROBLEM_CONTENT_TYPE
from contracts.registry import TrainingRunRequest
from service_runtime.problems import InvalidRequest, NotFound, ServiceUnavailable, require_json
from service_runtime.problems_flask import install_problem_handlers

BASE = "https://ai-migration-kit.dev/problems/"


@pytest.fixture()
def client() -> FlaskClient:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 16
    install_problem_handlers(app)

    @app.get("/missing")
    def missing() -> None:
        raise NotFound("no such thing")

    @app.get("/busy")
    def busy() -> None:
        raise ServiceUnavailable("not now", retry_after_s=3)

    @app.get("/invalid")
    def invalid() -> None:
        raise InvalidRequest("window is bad")

    @app.post("/body")
    def body() -> str:
        from flask import request

        require_json(request.mimetype)
        parse_model(TrainingRunRequest, request.get_data())
        return "ok"

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a secret")

    return app.test_client()


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_CONTENT_TYPE
    body = response.get_json(force=True)
    assert body["status"] == status
    return body


def test_a_service_error_is_its_problem_with_its_headers(client: FlaskClient) -> None:
    assert _problem(client.get("/missing"), 404) == {
        "type": BASE + "not-found",
        "title": "Not found",
        "status": 404,
        "detail": "no such thing",
        "instance": "/missing",
    }
    busy = client.get("/busy")
    assert _problem(busy, 503)["title"] == "Service unavailable"
    assert busy.headers["Retry-After"] == "3"
    assert _problem(client.get("/invalid"), 422)["type"] == BASE + "validation"


def test_bodies_refused_as_the_monolith_refuses_them(client: FlaskClient) -> None:
    media = _problem(client.post("/body", data="{}", content_type="text/plain"), 415)
    assert media["type"] == BASE + "unsupported-media-type"
    assert media["detail"] == "send the body as application/json (got 'text/plain')"
    bad = _problem(client.post("/body", data="{x", content_type="application/json"), 400)
    assert bad["type"] == BASE + "malformed-json"
    large = _problem(client.post("/body", data="{}" * 20, content_type="application/json"), 413)
    assert large["type"] == BASE + "payload-too-large"
    assert large["title"] == "Request Entity Too Large"


def test_werkzeugs_own_errors_are_problems(client: FlaskClient) -> None:
    unknown = _problem(client.get("/nowhere"), 404)
    assert unknown["type"] == BASE + "not-found" and unknown["instance"] == "/nowhere"
    wrong = client.delete("/missing")
    assert _problem(wrong, 405)["type"] == BASE + "method-not-allowed"
    assert "GET" in wrong.headers["Allow"]


def test_an_unexpected_error_is_a_logged_500_that_leaks_nothing(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        body = _problem(client.get("/boom"), 500)
    assert body["type"] == BASE + "internal" and "secret" not in str(body)
    assert body["detail"] == "The server failed to handle the request; it has been logged."
    assert any(r.exc_info for r in caplog.records)
