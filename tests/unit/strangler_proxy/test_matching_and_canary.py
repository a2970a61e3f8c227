"""Route matching precedence and the sticky canary split."""

from __future__ import annotations

from strangler_proxy.canary import bucket, goes_to_candidate, sticky_value
from strangler_proxy.matching import Router
from strangler_proxy.route_table import parse_table

TABLE = parse_table("""
upstreams: {m: {url: "http://a"}, s: {url: "http://b"}}
default_upstream: m
routes:
  - {name: beta, mode: passthrough, primary: s,
     match: {path_prefix: /api, headers: {X-Beta: "*"}, query: {v: "2"}}}
  - {name: one, mode: passthrough, primary: s,
     match: {path: "/api/v1/predictions/{id}", methods: [GET]}}
  - {name: api, mode: passthrough, primary: m, match: {path_prefix: /api/}}
""")


def _route(method: str, path: str, headers=(), query: bytes = b"") -> str | None:
    route = Router(TABLE).match(method, path, list(headers), query)
    return route.name if route else None


def test_first_match_wins_and_default() -> None:
    assert _route("GET", "/api/v1/predictions/7") == "one"
    assert _route("POST", "/api/v1/predictions/7") == "api"
    assert _route("GET", "/api/v1/predictions/7/x") == "api"
    assert _route("GET", "/api") == "api"
    assert _route("GET", "/apix") is None
    assert _route("GET", "/api/x", [(b"x-beta", b"yes")], b"v=2&w=1") == "beta"
    assert _route("GET", "/api/x", [(b"x-beta", b"yes")], b"v=3") == "api"


def test_explain_says_why() -> None:
    explanation = Router(TABLE).explain("post", "/api/v1/predictions/7", [])
    assert explanation.route == "api"
    reasons = [s.reason for s in explanation.steps]
    assert reasons[0].startswith("headers do not satisfy")
    assert reasons[1] == "method POST not in ['GET']"
    assert reasons[2] == "first match in table order"
    assert Router(TABLE).explain("GET", "/other", []).upstreams == {"primary": "m"}


def test_a_key_always_sees_one_side() -> None:
    for key in ("acct-1", "acct-2", "x" * 40):
        first = goes_to_candidate("predictions", 37.5, key)
        assert all(goes_to_candidate("predictions", 37.5, key) == first for _ in range(50))


def test_ten_thousand_keys_split_within_one_point() -> None:
    for weight in (1, 10, 33.3, 50, 90):
        share = (
            sum(goes_to_candidate("predictions", weight, f"account-{i}") for i in range(10_000))
            / 100
        )
        assert abs(share - weight) <= 1.0, (weight, share)


def test_raising_the_weight_never_moves_a_key_back() -> None:
    keys = [f"k{i}" for i in range(2000)]
    at10 = {k for k in keys if goes_to_candidate("r", 10, k)}
    at50 = {k for k in keys if goes_to_candidate("r", 50, k)}
    assert at10 <= at50
    assert bucket("r", "k1") != bucket("other-route", "k1") or bucket("r", "k2") != bucket(
        "other-route", "k2"
    )


def test_sticky_key_sources() -> None:
    headers = [(b"x-account-id", b"A-1"), (b"cookie", b"a=1; acct=C-9")]
    assert sticky_value("header:x-account-id", headers, b"") == "A-1"
    assert sticky_value("query:account", headers, b"account=Q-5&z=1") == "Q-5"
    assert sticky_value("cookie:acct", headers, b"") == "C-9"
    assert sticky_value("header:x-missing", headers, b"") is None
