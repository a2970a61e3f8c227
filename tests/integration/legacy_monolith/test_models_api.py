"""/api/v1/models: training runs in the background, versions, promotion and rollback."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient

from contracts.features import FEATURE_SPEC_VERSION
from datagen import generate
from tests.integration.legacy_monolith._support import (
    JSON,
    AppFactory,
    assert_problem,
    ingest_all,
    post_json,
    tx_json,
    wait_for_run,
)

RUNS = "/api/v1/models/training-runs"
TRAFFIC = generate(1500, seed=21)


def start_run(client: FlaskClient, **params: object) -> tuple[dict, str]:
    response = post_json(client, RUNS, {"epochs": 2, **params})
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json(), response.headers["Location"]


def test_a_training_run_trains_registers_and_promotes_a_model(client: FlaskClient) -> None:
    ingest_all(client, TRAFFIC)

    run, location = start_run(client, seed=3)

    assert run["status"] in ("queued", "running", "succeeded")
    assert run["params"]["epochs"] == 2 and run["params"]["seed"] == 3
    assert location.endswith(f"{RUNS}/{run['run_id']}")
    finished = wait_for_run(client, location)
    assert finished["status"] == "succeeded", finished["error"]
    assert finished["model_version"] == "1"
    metrics = finished["metrics"]
    assert metrics["train_rows"] + metrics["holdout_rows"] == len(TRAFFIC)
    assert 0.0 <= metrics["roc_auc"] <= 1.0 and 0.0 <= metrics["pr_auc"] <= 1.0
    assert finished["started_at"] <= finished["finished_at"]

    current = client.get("/api/v1/models/current").get_json()
    assert current["version"] == "1" and current["is_current"] is True
    assert current["training_run_id"] == run["run_id"]
    assert current["feature_spec_version"] == FEATURE_SPEC_VERSION
    assert current["metrics"] == metrics
    assert current["data_window"]["rows"] == len(TRAFFIC)
    window = current["data_window"]
    assert datetime.fromisoformat(window["start"]) == min(t.timestamp for t in TRAFFIC)
    assert datetime.fromisoformat(window["end"]) == max(t.timestamp for t in TRAFFIC)
    listing = client.get("/api/v1/models").get_json()
    assert listing["current_version"] == "1"
    assert [m["version"] for m in listing["models"]] == ["1"]


def test_promote_rolls_back_and_changes_which_version_scores(client: FlaskClient) -> None:
    ingest_all(client, TRAFFIC)
    probe = tx_json(TRAFFIC[0])
    _, first = start_run(client, seed=1)
    assert wait_for_run(client, first)["status"] == "succeeded"
    v1_answer = post_json(client, "/api/v1/predictions", probe).get_json()
    _, second = start_run(client, seed=2)
    assert wait_for_run(client, second)["model_version"] == "2"

    v2_answer = post_json(client, "/api/v1/predictions", probe).get_json()
    assert v1_answer["model_version"] == "1"
    assert v2_answer["model_version"] == "2"
    assert v2_answer["score"] != v1_answer["score"]  # another seed, another model

    promoted = client.post("/api/v1/models/1/promote")
    assert promoted.status_code == 200
    assert promoted.get_json()["version"] == "1"
    assert promoted.get_json()["is_current"] is True
    assert promoted.get_json()["promoted_at"] is not None

    rolled_back = post_json(client, "/api/v1/predictions", probe).get_json()
    assert rolled_back["model_version"] == "1"
    assert rolled_back["score"] == v1_answer["score"]
    listing = client.get("/api/v1/models").get_json()
    assert listing["current_version"] == "1"
    assert [(m["version"], m["is_current"]) for m in listing["models"]] == [
        ("2", False),
        ("1", True),
    ]
    assert client.get("/api/v1/models/current").get_json()["version"] == "1"
    assert "monolith_model_version 1.0" in client.get("/metrics").get_data(as_text=True)


def test_a_run_without_promotion_leaves_the_serving_version(client: FlaskClient) -> None:
    ingest_all(client, TRAFFIC)
    _, location = start_run(client)
    wait_for_run(client, location)
    _, location = start_run(client, promote=False)
    assert wait_for_run(client, location)["model_version"] == "2"
    assert client.get("/api/v1/models").get_json()["current_version"] == "1"


def test_a_training_window_selects_the_rows(client: FlaskClient) -> None:
    ingest_all(client, TRAFFIC)
    # The stream runs 2,000 transactions per local day from 2026-01-05: take the first hours.
    _, location = start_run(client, until="2026-01-05T14:00:00Z", max_rows=300)
    run = wait_for_run(client, location)
    assert run["status"] == "succeeded", run["error"]
    model = client.get("/api/v1/models/current").get_json()
    assert model["data_window"]["rows"] == 300
    assert datetime.fromisoformat(model["data_window"]["end"]) < datetime(
        2026, 1, 5, 14, tzinfo=UTC
    )


def test_training_without_enough_labelled_data_is_a_409(client: FlaskClient) -> None:
    ingest_all(client, TRAFFIC[:150])
    unlabelled = [tx_json(t, is_fraud=None, transaction_id=f"u-{i}") for i, t in enumerate(TRAFFIC)]
    post_json(client, "/api/v1/transactions", {"transactions": unlabelled[:1000]})

    problem = assert_problem(post_json(client, RUNS, {}), 409, "not-enough-data")

    assert "150" in problem["detail"] and "200" in problem["detail"]
    assert client.get("/api/v1/models").get_json() == {"current_version": None, "models": []}


def test_an_empty_window_is_a_409(client: FlaskClient) -> None:
    ingest_all(client, TRAFFIC)
    assert_problem(post_json(client, RUNS, {"since": "2030-01-01T00:00:00Z"}), 409)


def test_an_empty_body_means_the_defaults(make_app: AppFactory) -> None:
    client = make_app(min_training_rows=10).test_client()
    ingest_all(client, TRAFFIC[:300])
    response = client.post(RUNS)
    assert response.status_code == 202
    assert response.get_json()["params"]["epochs"] == 8
    assert wait_for_run(client, response.headers["Location"])["status"] == "succeeded"


def test_invalid_training_options_are_422(client: FlaskClient) -> None:
    for body in ({"epochs": 0}, {"epochs": "2"}, {"max_rows": 5}, {"surprise": 1}):
        assert_problem(post_json(client, RUNS, body), 422, "validation")
    problem = assert_problem(
        post_json(client, RUNS, {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}),
        422,
    )
    assert "since" in problem["detail"]
    assert_problem(client.post(RUNS, data=b"{", content_type=JSON), 400, "malformed-json")
    assert_problem(client.post(RUNS, data=b"{}", content_type="text/plain"), 415)


def test_unknown_runs_and_versions_are_404(client: FlaskClient) -> None:
    assert_problem(client.get(f"{RUNS}/no-such-run"), 404, "not-found")
    assert_problem(client.get(f"{RUNS}/a%00b"), 404, "not-found")  # NUL: PostgreSQL refuses it
    assert_problem(client.get("/api/v1/models/current"), 404, "not-found")
    for version in ("1", "99", "abc", "-1", "1.5", "9999999999", "%C2%B2", "%D9%A3"):
        assert_problem(client.post(f"/api/v1/models/{version}/promote"), 404, "not-found")
    assert_problem(client.get("/api/v1/models/1/promote"), 405)


def test_a_restarted_app_serves_the_promoted_model(make_app: AppFactory, app: Flask) -> None:
    client = app.test_client()
    ingest_all(client, TRAFFIC)
    _, location = start_run(client)
    wait_for_run(client, location)
    answer = post_json(client, "/api/v1/predictions", tx_json(TRAFFIC[5])).get_json()

    again = make_app().test_client()  # same database and model folder, new process state

    ready = again.get("/readyz").get_json()
    assert ready["model_version"] == "1"
    assert (
        post_json(again, "/api/v1/predictions", tx_json(TRAFFIC[5])).get_json()["score"]
        == (answer["score"])
    )
