"""GET /api/v1/monitoring/drift: the drift knob is flagged, undrifted traffic is not."""

from __future__ import annotations

from flask.testing import FlaskClient

from contracts.features import FEATURE_NAMES
from contracts.monitoring import MIN_DRIFT_WINDOW
from datagen import DRIFT_PRESETS, generate
from tests.integration.legacy_monolith._support import assert_problem, score_all

PATH = "/api/v1/monitoring/drift"
WINDOW = 1000


def test_undrifted_traffic_is_not_flagged(serving_client: FlaskClient) -> None:
    score_all(serving_client, generate(WINDOW, seed=41))  # same generator, another seed

    response = serving_client.get(f"{PATH}?window={WINDOW}")

    assert response.status_code == 200
    report = response.get_json()
    assert report["status"] == "ok", [f for f in report["features"] if f["drifted"]]
    assert report["drifted_features"] == []
    assert report["model_version"] == "1"
    assert report["reference_rows"] == 5000
    assert report["window"] == {**report["window"], "requested": WINDOW, "size": WINDOW}
    assert [f["feature"] for f in report["features"]] == list(FEATURE_NAMES)
    amount = next(f for f in report["features"] if f["feature"] == "amount_log")
    assert amount["psi"] < 0.1 and amount["ks_statistic"] < 0.1
    assert report["score"]["feature"] == "score"


def test_strongly_drifted_traffic_is_flagged_by_feature(serving_client: FlaskClient) -> None:
    score_all(serving_client, generate(WINDOW, seed=42, drift=DRIFT_PRESETS["strong"]))

    report = serving_client.get(f"{PATH}?window={WINDOW}").get_json()

    assert report["status"] == "drift"
    drifted = set(report["drifted_features"])
    assert {"amount_log", "amount_vs_category"} <= drifted
    assert {"channel_pos", "high_risk_mcc"} <= drifted  # the category and channel shifts
    assert not {"night", "weekend"} & drifted  # the knob does not move the clock
    by_name = {f["feature"]: f for f in report["features"]}
    assert by_name["amount_log"]["window_mean"] > by_name["amount_log"]["reference_mean"] + 0.5
    assert by_name["amount_log"]["ks_pvalue"] < 1e-6
    assert all(by_name[name]["drifted"] for name in drifted)


def test_only_the_newest_window_counts(serving_client: FlaskClient) -> None:
    score_all(serving_client, generate(WINDOW, seed=43, drift=DRIFT_PRESETS["strong"]))
    score_all(serving_client, generate(500, seed=44))

    report = serving_client.get(f"{PATH}?window=500").get_json()

    assert report["window"]["size"] == 500
    assert report["status"] == "ok", report["drifted_features"]


def test_too_few_predictions_is_insufficient_data(serving_client: FlaskClient) -> None:
    score_all(serving_client, generate(MIN_DRIFT_WINDOW - 1, seed=45))

    report = serving_client.get(PATH).get_json()

    assert report["status"] == "insufficient_data"
    assert report["window"]["size"] == MIN_DRIFT_WINDOW - 1
    assert report["features"] == [] and report["drifted_features"] == []


def test_without_a_model_there_is_no_reference(client: FlaskClient) -> None:
    report = client.get(PATH).get_json()
    assert report["status"] == "no_reference"
    assert report["model_version"] is None and report["reference_rows"] == 0


def test_a_bad_window_is_a_422(client: FlaskClient) -> None:
    for window in ("0", "49", "100001", "-5", "abc", "", "1e3", "%C2%B2", "9" * 5000):
        problem = assert_problem(client.get(f"{PATH}?window={window}"), 422, "validation")
        assert problem["errors"][0]["field"] == "window"
    assert client.get(f"{PATH}?window=50").status_code == 200
    assert client.get(f"{PATH}?window=100000").status_code == 200
