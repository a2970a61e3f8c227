"""Parity: the service scores, decides and explains exactly like the monolith.

The same model version (monolith v1, exported to the registry) scores a few hundred
generated transactions on both sides, as single requests gathered by the micro-batcher and
as one batch request, with the torch backend and with the ONNX Runtime backend.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from datagen import generate
from migration_playbook.runner.process import ManagedProcess
from tests.inference_fixtures import Monolith, Registry
from tests.integration.extracted_services.inference._support import start_service

N_TRANSACTIONS = 300
SCORE_TOLERANCE = 1e-6


@pytest.fixture(scope="module", params=["torch", "onnx"])
def service(
    request: pytest.FixtureRequest, registry: Registry, inference_root: Any
) -> Iterator[tuple[str, ManagedProcess]]:
    backend = request.param
    process = start_service(
        inference_root, f"parity-{backend}", registry.tracking_uri, INFERENCE_BACKEND=backend
    )
    yield backend, process
    process.stop()


def _monolith_scores(monolith: Monolith, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    client = monolith.app.test_client()
    response = client.post("/api/v1/predictions", json={"transactions": bodies})
    assert response.status_code == 200, response.get_data(as_text=True)
    predictions: list[dict[str, Any]] = response.get_json()["predictions"]
    return predictions


async def _service_singles(url: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(base_url=url, timeout=30.0, limits=limits) as client:
        semaphore = asyncio.Semaphore(32)

        async def one(body: dict[str, Any]) -> dict[str, Any]:
            async with semaphore:
                response = await client.post("/api/v1/predictions", json=body)
            assert response.status_code == 200, response.text
            result: dict[str, Any] = response.json()
            return result

        return list(await asyncio.gather(*(one(b) for b in bodies)))


def _compare(expected: dict[str, Any], got: dict[str, Any], exact: bool) -> float:
    assert got["transaction_id"] == expected["transaction_id"]
    diff = abs(got["score"] - expected["score"])
    assert diff <= SCORE_TOLERANCE, (expected, got)
    assert got["decision"] == expected["decision"]
    names = [a["feature"] for a in got["explanation"]]
    assert names == [a["feature"] for a in expected["explanation"]]
    for mine, theirs in zip(got["explanation"], expected["explanation"], strict=True):
        assert mine["value"] == theirs["value"]
        if exact:
            assert mine["attribution"] == theirs["attribution"]
        else:
            assert abs(mine["attribution"] - theirs["attribution"]) <= 1.5e-6
    return diff


def test_inference_parity_with_monolith(
    service: tuple[str, ManagedProcess], monolith: Monolith, registry: Registry
) -> None:
    backend, process = service
    ready = httpx.get(process.url + "/readyz").json()  # started from the registry's champion
    assert ready["model_version"] == registry.champion.registry_version
    assert ready["checks"] == {"model": "ok", "database": "ok", "broker": "disabled"}
    transactions = generate(N_TRANSACTIONS, seed=4242, id_prefix="parity")
    bodies = [json.loads(t.model_dump_json()) for t in transactions]
    expected = _monolith_scores(monolith, bodies)
    assert len({p["decision"] for p in expected}) >= 2, "the sample must exercise decisions"

    singles = asyncio.run(_service_singles(process.url, bodies))
    batch = httpx.post(
        process.url + "/api/v1/predictions", json={"transactions": bodies}, timeout=60
    )
    assert batch.status_code == 200, batch.text
    batched = batch.json()["predictions"]

    # The same batch through torch is the monolith's computation, bit for bit. Singles are
    # gathered into other batch shapes (and ONNX is another kernel library), where float32
    # sums may differ in the last bit: within rounding of the 6-decimal presentation.
    exact = backend == "torch"
    worst = 0.0
    for want, single, in_batch in zip(expected, singles, batched, strict=True):
        worst = max(worst, _compare(want, single, False), _compare(want, in_batch, exact))
        assert single["model_version"] == registry.champion.registry_version
    sys.stderr.write(f"\n{backend}: max |score diff| over {2 * N_TRANSACTIONS} = {worst:.3e}\n")

    # the micro-batcher did gather concurrent singles into shared forward passes
    metrics = httpx.get(process.url + "/metrics").text
    count = _metric(metrics, "inference_batch_size_rows_count")
    assert 0 < count < N_TRANSACTIONS + 1


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


BAD_REQUESTS: list[tuple[str, bytes, str]] = [
    ("not json", b"{nope", "application/json"),
    ("empty", b"", "application/json"),
    ("wrong media type", b"{}", "text/plain"),
    ("not an object", b"[1, 2]", "application/json"),
    ("invalid fields", b'{"transaction_id": "x", "amount": -3}', "application/json"),
    ("empty batch", b'{"transactions": []}', "application/json"),
    (
        "batch too large",
        json.dumps({"transactions": [{"transaction_id": str(i)} for i in range(1001)]}).encode(),
        "application/json",
    ),
    (
        "over 4 MiB",
        b'{"transactions": [' + b" " * (4 * 1024 * 1024 + 10) + b"]}",
        "application/json",
    ),
]


@pytest.mark.parametrize(
    ("case", "body", "media_type"), BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS]
)
def test_inference_parity_of_problems(
    service: tuple[str, ManagedProcess], monolith: Monolith, case: str, body: bytes, media_type: str
) -> None:
    """The same bad request gets the same status and problem document from both sides."""
    _, process = service
    theirs = monolith.app.test_client().post(
        "/api/v1/predictions", data=body, headers={"Content-Type": media_type}
    )
    ours = httpx.post(
        process.url + "/api/v1/predictions", content=body, headers={"Content-Type": media_type}
    )
    assert ours.status_code == theirs.status_code, (case, ours.text)
    assert ours.headers["content-type"] == "application/problem+json"
    assert ours.json() == theirs.get_json()


def test_inference_parity_of_an_unknown_prediction(
    service: tuple[str, ManagedProcess], monolith: Monolith
) -> None:
    _, process = service
    theirs = monolith.app.test_client().get("/api/v1/predictions/no-such-id")
    ours = httpx.get(process.url + "/api/v1/predictions/no-such-id")
    assert (ours.status_code, ours.json()) == (theirs.status_code, theirs.get_json())
