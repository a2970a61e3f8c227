"""/healthz, /readyz and /metrics."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from datagen import generate
from tests.integration.legacy_monolith._support import AppFactory, post_json, score_all, tx_json


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "service": "legacy-monolith"}


def test_ready_before_any_training(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["model"].startswith("ok")
    assert body["model_version"] is None


def test_ready_with_a_model(serving_client: FlaskClient) -> None:
    body = serving_client.get("/readyz").get_json()
    assert body["status"] == "ready"
    assert body["checks"] == {"database": "ok", "model": "ok"}
    assert body["model_version"] == "1"


def test_not_ready_when_the_promoted_model_cannot_load(
    serving_app: Flask, make_app: AppFactory
) -> None:
    model_dir = serving_app.extensions["monolith"].settings.model_dir
    (model_dir / "v1" / "model.pt").unlink()

    restarted = make_app().test_client()

    response = restarted.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "not_ready"
    assert "failed to load" in response.get_json()["checks"]["model"]
    scored = post_json(restarted, "/api/v1/predictions", tx_json(generate(1, seed=1)[0]))
    assert scored.status_code == 409
    assert scored.mimetype == "application/problem+json"


def test_metrics_count_predictions_and_show_the_model_version(
    serving_client: FlaskClient,
) -> None:
    predictions = score_all(serving_client, generate(200, seed=51))
    serving_client.get("/api/v1/nowhere")

    response = serving_client.get("/metrics")

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert "monolith_model_version 1.0" in text
    for decision in {p["decision"] for p in predictions}:
        count = sum(p["decision"] == decision for p in predictions)
        assert f'monolith_predictions_total{{decision="{decision}"}} {float(count)}' in text
    assert (
        'monolith_http_requests_total{endpoint="/api/v1/predictions",method="POST",status="200"}'
        in text
    )
    assert 'endpoint="unmatched",method="GET",status="404"' in text
    assert 'monolith_http_request_duration_seconds_count{endpoint="/api/v1/predictions"}' in text


def test_model_version_is_zero_before_training(client: FlaskClient) -> None:
    text = client.get("/metrics").get_data(as_text=True)
    assert "monolith_model_version 0.0" in text
    assert "monolith_predictions_total" in text
