"""Hostile input at every endpoint: the monolith answers 2xx or a 4xx problem, never a 5xx.

One app per test function (not per example) keeps this fast; the scoring endpoint runs on
an app with a model, so valid-looking bodies reach the scorer and the audit log.
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import quote, urlencode

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datagen import generate
from tests.integration.legacy_monolith._support import assert_problem

HOSTILE = settings(
    max_examples=250,
    deadline=None,
    derandomize=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # deliberate: one app per test, not per example
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

BASE = [t.model_dump(mode="json") for t in generate(20, seed=77)]
FIELDS = list(BASE[0])

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)  # json.dumps writes NaN / Infinity
    | st.text(max_size=30)
    | st.sampled_from(["", "0", "-1", "1e309", "NaN", "\u0000", "🙂", "2026-13-45T99:99:99Z"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
hostile_field_values = scalars | st.sampled_from(
    [
        0.001,
        1_000_000.0,
        1_000_000.01,
        0.01,
        1e-300,
        "2000-01-01T00:00:00+23:59",
        "2100-12-31T23:59:59-23:59",
        "2026-01-05T10:00:00.999999999Z",
        "2026-01-05t10:00:00z",
        "9999-12-31T23:59:59Z",
        "XAU",
        "0000",
        "a" * 64,
        "a" * 65,
        ["pos"],
        {"$gt": 0},
    ]
)


@st.composite
def mutated_transactions(draw: st.DrawFn) -> dict[str, Any]:
    """A valid transaction with a few fields replaced, dropped or added."""
    tx = dict(draw(st.sampled_from(BASE)))
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        if draw(st.booleans()):
            tx[field] = draw(hostile_field_values)
        else:
            tx.pop(field)
    if draw(st.integers(0, 9)) == 0:
        tx[draw(st.text(max_size=10))] = draw(json_values)
    return tx


def _nested(depth: int, opener: bytes, closer: bytes) -> bytes:
    return opener * depth + closer * depth


raw_bodies = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b"",
            b"null",
            b"NaN",
            b"-Infinity",
            b'{"amount": NaN}',
            b'{"transactions": [Infinity]}',
            b'{"epochs": 1e999}',
            b'{"seed": ' + b"9" * 5000 + b"}",
            b'"\\ud800"',
            b"\xef\xbb\xbf{}",
            b'{"transactions": [' + b"{}," * 1000 + b"{}]}",
        ]
    ),
    st.integers(1, 200_000).map(lambda d: _nested(d, b"[", b"]")),
    st.integers(1, 50_000).map(lambda d: _nested(d, b'{"a":', b"}").replace(b":}", b":1}", 1)),
)


def _dumps(document: object) -> bytes:
    return json.dumps(document, allow_nan=True).encode()


transaction_bodies = st.one_of(
    json_values.map(_dumps),
    mutated_transactions().map(_dumps),
    st.lists(mutated_transactions(), max_size=5).map(lambda items: _dumps({"transactions": items})),
    raw_bodies,
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/json",
        "application/json; charset=utf-16",
        "application/problem+json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "",
        "json",
        "application/json\r\nX-Injected: 1".replace("\r\n", " "),
    ]
)


def check(response: Any) -> None:
    """2xx with JSON, or a 4xx problem; never a 5xx."""
    status = response.status_code
    assert status < 500, response.get_data(as_text=True)
    if response.request.method == "HEAD":  # no body to inspect
        assert status < 400 or response.mimetype == "application/problem+json"
        return
    if status >= 400:
        assert_problem(response, status)
    elif response.mimetype == "application/json":
        json.loads(response.get_data(as_text=True))


@HOSTILE
@given(body=transaction_bodies, content_type=content_types)
def test_ingestion_never_fails_with_a_5xx(
    client: FlaskClient, body: bytes, content_type: str
) -> None:
    check(client.post("/api/v1/transactions", data=body, content_type=content_type))


@HOSTILE
@given(body=transaction_bodies, content_type=content_types)
def test_scoring_never_fails_with_a_5xx(
    serving_client: FlaskClient, body: bytes, content_type: str
) -> None:
    response = serving_client.post("/api/v1/predictions", data=body, content_type=content_type)
    check(response)
    if response.status_code == 200:
        answer = response.get_json()
        for prediction in answer.get("predictions", [answer]):
            assert 0.0 <= prediction["score"] <= 1.0 and math.isfinite(prediction["score"])
            assert len(prediction["explanation"]) == 5


def test_scoring_extreme_but_valid_transactions(serving_client: FlaskClient) -> None:
    base = BASE[0]
    for overrides in (
        {"amount": 0.01},
        {"amount": 1_000_000},
        {"timestamp": "2000-01-01T00:00:00+23:59"},
        {"timestamp": "2100-12-31T23:59:59-23:59"},
        {"merchant_category": "0000", "country": "AQ", "currency": "THB"},
    ):
        response = serving_client.post(
            "/api/v1/predictions",
            data=_dumps({**base, **overrides}),
            content_type="application/json",
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        record = serving_client.get(f"/api/v1/predictions/{response.get_json()['prediction_id']}")
        assert record.status_code == 200, record.get_data(as_text=True)


training_bodies = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "epochs": hostile_field_values,
            "max_rows": hostile_field_values,
            "since": hostile_field_values,
            "until": hostile_field_values,
            "seed": hostile_field_values,
            "promote": hostile_field_values,
        },
    ).map(_dumps),
    json_values.map(_dumps),
    raw_bodies,
)


@HOSTILE
@given(body=training_bodies, content_type=content_types)
def test_training_runs_never_fail_with_a_5xx(
    client: FlaskClient, body: bytes, content_type: str
) -> None:
    check(client.post("/api/v1/models/training-runs", data=body, content_type=content_type))


segments = st.text(max_size=80).map(lambda s: quote(s.encode("utf-8", "surrogatepass"), safe=""))
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])


@HOSTILE
@given(segment=segments, method=methods, body=raw_bodies, content_type=content_types)
def test_ids_and_versions_in_paths_never_fail_with_a_5xx(
    serving_client: FlaskClient, segment: str, method: str, body: bytes, content_type: str
) -> None:
    for template in (
        "/api/v1/predictions/{}",
        "/api/v1/models/training-runs/{}",
        "/api/v1/models/{}/promote",
        "/api/v1/models/{}",
        "/api/v1/{}",
        "/{}",
    ):
        path = template.format(segment)
        check(serving_client.open(path, method=method, data=body, content_type=content_type))
    check(serving_client.get(f"/api/v1/predictions/{segment}"))
    check(serving_client.post(f"/api/v1/models/{segment}/promote"))


query_values = (
    st.text(max_size=40)
    | st.integers(-(10**30), 10**30).map(str)
    | st.sampled_from(
        ["", "50", "100000", "100001", "49", "1e3", "0x40", " 60", "60 ", "²", "٣٣٣", "9" * 5000]
    )
)


@HOSTILE
@given(
    window=query_values,
    extra=st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3),
    repeat=st.booleans(),
)
def test_the_drift_window_never_fails_with_a_5xx(
    serving_client: FlaskClient, window: str, extra: dict[str, str], repeat: bool
) -> None:
    pairs = [("window", window), *extra.items()]
    if repeat:
        pairs.append(("window", "abc"))
    query = urlencode([(k, v.encode("utf-8", "surrogatepass")) for k, v in pairs])
    response = serving_client.get(f"/api/v1/monitoring/drift?{query}")
    check(response)


@HOSTILE
@given(method=methods, body=raw_bodies, content_type=content_types, query=st.text(max_size=30))
def test_operational_and_listing_endpoints_never_fail_with_a_5xx(
    serving_client: FlaskClient, method: str, body: bytes, content_type: str, query: str
) -> None:
    suffix = "?" + quote(query.encode("utf-8", "surrogatepass"), safe="=&")
    for path in (
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/models",
        "/api/v1/models/current",
        "/api/v1/transactions",
        "/api/v1/predictions",
        "/api/v1/monitoring/drift",
    ):
        check(
            serving_client.open(path + suffix, method=method, data=body, content_type=content_type)
        )
