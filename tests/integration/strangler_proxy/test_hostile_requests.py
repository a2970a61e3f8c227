"""Hostile requests at the proxy, through a real server: refused with a problem, never
forwarded to an upstream under a path or a size the route table did not look at."""

from __future__ import annotations

import http.client
import json
import re
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

from tests.integration.strangler_proxy.conftest import RunningProxy

ROUTES = [
    {
        "name": "predictions",
        "mode": "passthrough",
        "primary": "inference",
        "match": {"path_prefix": "/api/v1/predictions"},
    }
]


def _raw(
    proxy: RunningProxy,
    method: str,
    path: str,
    body: bytes | Iterator[bytes] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request with the path exactly as given (http.client does not normalise it)."""
    where = urlsplit(proxy.url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    try:
        connection.request(
            method,
            path,
            body=body,
            headers={**proxy.user, **(headers or {})},
            encode_chunked=body is not None and not isinstance(body, bytes),
        )
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_dot_segments_are_matched_as_the_upstream_will_act_on_them(start_proxy, fakes) -> None:
    proxy = start_proxy(ROUTES)
    for path in (
        "/api/v1/predictions/../models/1/promote",
        "/api/v1/predictions/%2e%2e/models/1/promote",
    ):
        status, _headers, _body = _raw(proxy, "POST", path, b"{}")
        assert status == 200
    # Not the predictions route: the default upstream served the normalised path.
    assert fakes["monolith"].hits["POST /api/v1/models/1/promote"] == 2
    assert not fakes["inference"].hits


def test_encoded_slashes_are_refused_before_any_upstream(start_proxy, fakes) -> None:
    proxy = start_proxy(ROUTES)
    status, headers, body = _raw(proxy, "GET", "/api/v1/predictions%2f..%2fmodels")
    assert status == 400
    assert headers["content-type"].startswith("application/problem+json")
    assert json.loads(body)["type"].endswith("path-not-canonical")
    assert not fakes["monolith"].hits and not fakes["inference"].hits


def test_trace_and_connect_get_405_with_allow(start_proxy, fakes) -> None:
    proxy = start_proxy(ROUTES)
    for method in ("TRACE", "CONNECT"):
        status, headers, body = _raw(proxy, method, "/api/v1/predictions")
        assert status == 405
        assert "GET" in headers["allow"]
        assert json.loads(body)["status"] == 405
    assert not fakes["inference"].hits


def test_a_declared_body_over_the_limit_gets_413_unread(start_proxy, fakes) -> None:
    proxy = start_proxy(ROUTES, max_request_body_bytes=1000)
    status, _headers, body = _raw(proxy, "POST", "/api/v1/predictions", b"x" * 1001)
    assert status == 413
    assert json.loads(body)["type"].endswith("request-too-large")
    status, _headers, _body = _raw(proxy, "POST", "/api/v1/predictions", b"x" * 1000)
    assert status == 200
    assert fakes["inference"].hits["POST /api/v1/predictions"] == 1


def test_a_chunked_body_over_the_limit_gets_413(start_proxy, fakes) -> None:
    # Buffered below max_buffered_body_bytes, streamed above it: 413 either way.
    for buffered in (1_000_000, 100):
        proxy = start_proxy(ROUTES, max_request_body_bytes=1000, max_buffered_body_bytes=buffered)
        chunks = iter([b"x" * 400] * 5)
        status, _headers, body = _raw(
            proxy, "POST", "/api/v1/predictions", chunks, {"Transfer-Encoding": "chunked"}
        )
        assert status == 413, (buffered, body)
        assert json.loads(body)["status"] == 413


def test_a_content_length_that_is_no_number_gets_400(start_proxy, fakes) -> None:
    proxy = start_proxy(ROUTES)
    where = urlsplit(proxy.url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    try:
        connection.putrequest("POST", "/api/v1/predictions")
        connection.putheader("Authorization", proxy.user["Authorization"])
        connection.putheader("Content-Length", "12abc")
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 400
    finally:
        connection.close()
    assert not fakes["inference"].hits


def test_a_malformed_traceparent_is_replaced_not_forwarded(start_proxy, fakes) -> None:
    proxy = start_proxy(ROUTES)
    for bogus in ("garbage", "00-" + "0" * 32 + "-" + "1" * 16 + "-01", "00-abc-def-01"):
        status, _headers, _body = _raw(
            proxy, "POST", "/api/v1/predictions", b"{}", {"traceparent": bogus}
        )
        assert status == 200
        sent = fakes["inference"].last_headers["traceparent"]
        assert sent != bogus
        assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}", sent), sent


def test_a_header_with_an_injected_line_never_reaches_an_upstream(start_proxy, fakes) -> None:
    proxy = start_proxy(ROUTES)
    where = urlsplit(proxy.url)
    request = (
        "GET /api/v1/predictions HTTP/1.1\r\n"
        f"Host: {where.netloc}\r\n"
        f"Authorization: {proxy.user['Authorization']}\r\n"
        "X-Note: a\rX-Injected: 1\r\n"
        "\r\n"
    ).encode()
    with socket.create_connection((where.hostname, where.port), timeout=10) as sock:
        sock.sendall(request)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert not fakes["inference"].hits
