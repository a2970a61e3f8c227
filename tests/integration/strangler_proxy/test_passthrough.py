"""Passthrough forwarding against real upstreams: routing, headers, streaming, own endpoints."""

from __future__ import annotations

import hashlib

import httpx

from tests.integration.strangler_proxy.conftest import RunningProxy


def test_routes_by_prefix_method_and_header_and_default(start_proxy, fakes) -> None:
    proxy: RunningProxy = start_proxy(
        [
            {
                "name": "beta",
                "mode": "passthrough",
                "primary": "spare",
                "match": {"path_prefix": "/api/v1/models", "headers": {"X-Beta": "1"}},
            },
            {
                "name": "models",
                "mode": "passthrough",
                "primary": "inference",
                "match": {"path_prefix": "/api/v1/models", "methods": ["GET"]},
            },
            {
                "name": "one",
                "mode": "passthrough",
                "primary": "spare",
                "match": {"path": "/api/v1/predictions/{prediction_id}", "methods": ["GET"]},
            },
        ]
    )
    with proxy.client() as client:
        assert client.get("/api/v1/models/current").json()["upstream"] == "inference"
        assert client.get("/api/v1/models", headers={"X-Beta": "1"}).json()["upstream"] == "spare"
        assert client.post("/api/v1/models/3/promote").json()["upstream"] == "monolith"
        assert client.get("/api/v1/modelsx").json()["upstream"] == "monolith"
        assert client.get("/api/v1/predictions/abc").json()["upstream"] == "spare"
        assert client.get("/api/v1/predictions/abc/x").json()["upstream"] == "monolith"


def test_status_headers_query_and_forwarding_headers(start_proxy, fakes) -> None:
    proxy = start_proxy([])
    fakes["monolith"].status = 418
    trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with proxy.client() as client:
        response = client.get(
            "/anything?a=1&b=%20x",
            headers={
                "traceparent": trace,
                "X-Forwarded-For": "10.0.0.1",
                "Connection": "x-secret",
                "X-Secret": "hop",
                "Keep-Alive": "timeout=5",
                "X-Custom": "kept",
            },
        )
    assert response.status_code == 418
    assert response.headers["x-upstream"] == "monolith"
    assert response.json()["query"] == "a=1&b=%20x"
    seen = fakes["monolith"].last_headers
    assert seen["x-forwarded-for"] == "10.0.0.1, 127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"
    assert seen["x-forwarded-host"] == f"127.0.0.1:{proxy.server.port}"
    assert seen["x-custom"] == "kept"
    assert "x-secret" not in seen and "keep-alive" not in seen
    assert seen["traceparent"].startswith("00-0af7651916cd43dd8448eb211c80319c-")
    assert seen["traceparent"] != trace  # the proxy is a new parent span
    assert seen["authorization"].startswith("Bearer ")


def test_new_trace_when_none_comes_in(start_proxy, fakes) -> None:
    proxy = start_proxy([])
    with proxy.client() as client:
        client.get("/x")
    parts = fakes["monolith"].last_headers["traceparent"].split("-")
    assert len(parts) == 4 and len(parts[1]) == 32 and len(parts[2]) == 16


def test_large_bodies_stream_both_ways(start_proxy, fakes) -> None:
    proxy = start_proxy([], max_buffered_body_bytes=65536)
    payload = bytes(range(256)) * 20_000  # 5 MB, far above the buffer limit
    with proxy.client() as client:
        echoed = client.post("/echo", content=payload)
        assert hashlib.sha256(echoed.content).digest() == hashlib.sha256(payload).digest()

        def chunks():
            for i in range(0, len(payload), 100_000):
                yield payload[i : i + 100_000]

        chunked = client.post("/echo", content=chunks())
        assert chunked.content == payload
        big = client.get("/big?size=3000000")
    assert len(big.content) == 3_000_000
    assert "x-hop" not in big.headers  # named by the upstream's Connection header


def test_own_endpoints_are_open(start_proxy, fakes) -> None:
    proxy = start_proxy([])
    with httpx.Client(base_url=proxy.url) as anonymous:
        assert anonymous.get("/healthz").status_code == 200
        assert anonymous.get("/readyz").json()["table_version"] == 1
        with proxy.client() as client:
            client.get("/x")
        metrics = anonymous.get("/metrics").text
    assert (
        'proxy_requests_total{route="_default",side="primary",status_class="2xx",'
        'upstream="monolith"} 1.0'
        in metrics
        or "proxy_requests_total" in metrics
    )
    assert "proxy_route_table_version 1.0" in metrics
