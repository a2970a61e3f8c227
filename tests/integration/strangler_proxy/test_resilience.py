"""Fallback, retries, the circuit breaker and automatic rollback, with real upstreams."""

from __future__ import annotations

import pytest

from tests.integration.strangler_proxy.conftest import table_yaml
from tests.integration.strangler_proxy.servers import refused_url

CANARY = {
    "name": "predictions",
    "mode": "canary",
    "primary": "monolith",
    "candidate": "inference",
    "weight": 100,
    "fallback": "monolith",
    "match": {"path_prefix": "/api/v1/predictions"},
}


@pytest.mark.parametrize("failure", ["status_500", "timeout", "refused"])
def test_candidate_failure_is_served_by_the_fallback(start_proxy, fakes, urls, failure) -> None:
    overrides = {"inference": {"timeout_s": 0.2, "retry": {"attempts": 1}}}
    if failure == "refused":
        overrides["inference"]["url"] = refused_url()
    proxy = start_proxy(table=table_yaml(urls, [CANARY], overrides))
    if failure == "status_500":
        fakes["inference"].status = 500
    if failure == "timeout":
        fakes["inference"].delay_s = 1.0
    with proxy.client() as client, proxy.admin() as admin:
        for _ in range(3):
            answer = client.post("/api/v1/predictions", json={"x": 1})
            assert answer.status_code == 200
            assert answer.json()["model_version"] == "monolith"
        served = admin.get("/_admin/routes/state").json()["routes"][0]["served"]
        metrics = client.get("/metrics").text
    assert served["fallback"] == 3 and served["candidate_errors"] == 3
    assert 'proxy_fallbacks_total{route="predictions",upstream="monolith"} 3.0' in metrics
    assert fakes["monolith"].hits["POST /api/v1/predictions"] == 3


def test_candidate_failure_without_fallback_is_a_problem(start_proxy, fakes, urls) -> None:
    route = {**CANARY, "fallback": None}
    proxy = start_proxy(table=table_yaml(urls, [route], {"inference": {"url": refused_url()}}))
    with proxy.client() as client:
        answer = client.post("/api/v1/predictions", json={})
    assert answer.status_code == 502
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith("/upstream-unavailable")


def test_retries_only_idempotent_methods(start_proxy, fakes, urls) -> None:
    overrides = {
        "monolith": {
            "retry": {"attempts": 3, "backoff_s": 0.001},
            "breaker": {"failure_threshold": 100},
        }
    }
    proxy = start_proxy(table=table_yaml(urls, [], overrides))
    fakes["monolith"].status = 503
    with proxy.client() as client:
        assert client.get("/orders").status_code == 503
        assert client.put("/orders/1", json={}).status_code == 503
        assert client.post("/orders", json={}).status_code == 503
        assert client.patch("/orders/1", json={}).status_code == 503
        metrics = client.get("/metrics").text
    hits = fakes["monolith"].hits
    assert hits["GET /orders"] == 3 and hits["PUT /orders/1"] == 3
    assert hits["POST /orders"] == 1 and hits["PATCH /orders/1"] == 1
    assert 'proxy_retries_total{upstream="monolith"} 4.0' in metrics


def test_retry_budget_caps_retries(start_proxy, fakes, urls) -> None:
    overrides = {
        "monolith": {
            "retry": {"attempts": 2, "backoff_s": 0, "min_retries": 2, "budget_ratio": 0.0},
            "breaker": {"failure_threshold": 100},
        }
    }
    proxy = start_proxy(table=table_yaml(urls, [], overrides))
    fakes["monolith"].status = 502
    with proxy.client() as client:
        for _ in range(5):
            client.get("/x")
    assert fakes["monolith"].hits["GET /x"] == 5 + 2  # two retry tokens, then none


def test_breaker_opens_fails_fast_and_recovers(start_proxy, fakes, urls) -> None:
    overrides = {
        "monolith": {"retry": {"attempts": 1}, "breaker": {"failure_threshold": 3, "open_s": 0.3}}
    }
    proxy = start_proxy(table=table_yaml(urls, [], overrides))
    fakes["monolith"].status = 503
    with proxy.client() as client, proxy.admin() as admin:
        for _ in range(3):
            assert client.get("/x").status_code == 503
        opened = client.get("/x")  # fails fast, the upstream is not called
        assert opened.json()["type"].endswith("/circuit-open")
        assert fakes["monolith"].hits["GET /x"] == 3
        ups = {u["name"]: u for u in admin.get("/_admin/routes/state").json()["upstreams"]}
        assert ups["monolith"]["breaker"] == "open"
        assert 'proxy_breaker_state{upstream="monolith"} 1.0' in client.get("/metrics").text
        fakes["monolith"].status = 200
        proxy.wait_for(lambda: client.get("/x").status_code == 200, timeout=3)
        ups = {u["name"]: u for u in admin.get("/_admin/routes/state").json()["upstreams"]}
        assert ups["monolith"]["breaker"] == "closed"


def test_primary_failure_uses_route_fallback(start_proxy, fakes, urls) -> None:
    route = {
        "name": "models",
        "mode": "passthrough",
        "primary": "inference",
        "fallback": "monolith",
        "match": {"path_prefix": "/api/v1/models"},
    }
    proxy = start_proxy(table=table_yaml(urls, [route], {"inference": {"url": refused_url()}}))
    with proxy.client() as client:
        assert client.get("/api/v1/models").json()["upstream"] == "monolith"


def test_rollback_on_error_rate_breach_with_real_requests(start_proxy, fakes, urls) -> None:
    route = {
        **CANARY,
        "weight": 50,
        "fallback": "monolith",
        "rollback": {
            "max_error_rate": 0.05,
            "max_p99_ms": 1000,
            "window_s": 30,
            "min_requests": 20,
        },
    }
    proxy = start_proxy(table=table_yaml(urls, [route], {"inference": {"retry": {"attempts": 1}}}))
    with proxy.client() as client, proxy.admin() as admin:
        for i in range(60):  # healthy phase: the candidate serves its share
            assert (
                client.post(
                    "/api/v1/predictions", json={}, headers={"X-Account-Id": str(i)}
                ).status_code
                == 200
            )
        state = admin.get("/_admin/routes/state").json()["routes"][0]
        assert state["rollback"]["verdict"] == "healthy"
        assert state["effective_weight"] == 50
        fakes["inference"].status = 500  # the candidate starts failing mid-test
        for _ in range(60):
            answer = client.post("/api/v1/predictions", json={})
            assert answer.status_code == 200  # fallback: no failed client request
        state = admin.get("/_admin/routes/state").json()["routes"][0]
        rollback = state["rollback"]
        assert rollback["verdict"] == "rolled_back"
        assert state["effective_weight"] == 0
        assert rollback["event"]["threshold"] == "max_error_rate"
        assert rollback["event"]["measured"] > 0.05
        assert "max_error_rate broken" in rollback["reason"]
        before = fakes["inference"].hits["POST /api/v1/predictions"]
        for _ in range(20):
            assert client.post("/api/v1/predictions", json={}).json()["model_version"] == "monolith"
        assert fakes["inference"].hits["POST /api/v1/predictions"] == before
        metrics = client.get("/metrics").text
        # the action log says the proxy itself took the canary out, and why
        (logged,) = admin.get("/_admin/audit", params={"kind": "canary-rolled-back"}).json()
    assert logged["actor"] == "proxy:rollback-guard" and logged["route"] == "predictions"
    assert logged["threshold"] == "max_error_rate" and logged["measured"] > 0.05
    assert 'proxy_rollbacks_total{route="predictions",threshold="max_error_rate"} 1.0' in metrics
    assert 'proxy_canary_weight_percent{route="predictions"} 0.0' in metrics


def test_rollback_on_latency_breach(start_proxy, fakes, urls) -> None:
    route = {
        **CANARY,
        "rollback": {"max_error_rate": 0.5, "max_p99_ms": 30, "window_s": 30, "min_requests": 5},
    }
    proxy = start_proxy(table=table_yaml(urls, [route]))
    fakes["inference"].delay_s = 0.06
    with proxy.client() as client, proxy.admin() as admin:
        for _ in range(6):
            client.post("/api/v1/predictions", json={})
        rollback = admin.get("/_admin/routes/state").json()["routes"][0]["rollback"]
    assert rollback["verdict"] == "rolled_back"
    assert rollback["event"]["threshold"] == "max_p99_ms"
    assert rollback["event"]["measured"] >= 60


def test_insufficient_data_is_never_a_pass(start_proxy, fakes, urls) -> None:
    route = {
        **CANARY,
        "rollback": {"max_error_rate": 0.01, "max_p99_ms": 250, "window_s": 30, "min_requests": 50},
    }
    proxy = start_proxy(table=table_yaml(urls, [route]))
    fakes["inference"].status = 500
    with proxy.client() as client, proxy.admin() as admin:
        for _ in range(10):  # all failing, but too few to judge
            assert client.post("/api/v1/predictions", json={}).status_code == 200
        rollback = admin.get("/_admin/routes/state").json()["routes"][0]["rollback"]
    assert rollback["verdict"] == "insufficient_data"
    assert rollback["window"]["requests"] == 10 and rollback["window"]["errors"] == 10
    assert "10 of 50" in rollback["reason"]
