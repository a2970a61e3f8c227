"""Hot-swap on ``model_promoted`` under concurrent load, and a bad version refused.

A real service (real MLflow registry, real RabbitMQ in a throw-away vhost) scores a
steady stream of concurrent requests while ``model_promoted`` events arrive on the broker:
the good version is swapped in with zero failed requests and no batch scored by a mix of
versions; a version whose checks fail is refused and counted while the old one serves.
Every decision is audited (readable by id) and announced as ``prediction_logged``,
counted on the real monitoring queue.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import mlflow
import pytest
from mlflow.tracking import MlflowClient

from contracts.events.models import ModelPromoted, PredictionLogged
from datagen import generate
from eventbus import SyncPublisher, build_topology, encode
from migration_playbook.runner.process import ManagedProcess
from tests.amqp_support import drain, fresh_vhost, wait_for
from tests.inference_fixtures import Registry
from tests.integration.extracted_services.inference._support import start_service

MONITORING_QUEUE = build_topology().consumer_queue("monitoring", "prediction_logged").name


@pytest.fixture
def vhost() -> Iterator[str]:
    with fresh_vhost("inference") as uri:
        yield uri


@pytest.fixture
def service(vhost: str, registry: Registry, inference_root: Path) -> Iterator[ManagedProcess]:
    client = MlflowClient(registry.tracking_uri)
    client.set_registered_model_alias("risk-scorer", "champion", "1")
    process = start_service(
        inference_root,
        f"swap-{time.monotonic_ns()}",
        registry.tracking_uri,
        AMQP_URI=vhost,
        INFERENCE_MESSAGING_ENABLED="true",
        INFERENCE_BACKEND="onnx",
    )
    yield process
    process.stop()


def _bad_version(registry: Registry) -> str:
    """A new registry version of the same weights, tagged with a foreign feature spec."""
    client = MlflowClient(registry.tracking_uri)
    source = client.get_model_version("risk-scorer", registry.champion.registry_version)
    mlflow.set_tracking_uri(registry.tracking_uri)
    bad = mlflow.register_model(source.source, "risk-scorer", tags={"feature_spec_version": "999"})
    return str(bad.version)


def _promote(uri: str, version: str, previous: str | None) -> ModelPromoted:
    event = ModelPromoted(
        model_version=version,
        previous_version=previous,
        model_uri=f"models:/risk-scorer/{version}",
        feature_spec_version="1",
        promoted_at=datetime.now(UTC),
    )
    with SyncPublisher(uri) as publisher:
        publisher.publish(encode(event))
    return event


def _metric(url: str, name: str) -> float:
    for line in httpx.get(url + "/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


async def _load(url: str, stop: asyncio.Event, concurrency: int) -> list[tuple[int, Any]]:
    bodies = [json.loads(t.model_dump_json()) for t in generate(400, seed=99, id_prefix="swap")]
    results: list[tuple[int, Any]] = []
    async with httpx.AsyncClient(base_url=url, timeout=30.0) as client:

        async def worker(offset: int) -> None:
            index = offset
            while not stop.is_set():
                body = bodies[index % len(bodies)]
                if index % 5 == 0:  # some batch requests in the mix
                    body = {"transactions": bodies[index % 300 : index % 300 + 4]}
                response = await client.post("/api/v1/predictions", json=body)
                results.append((response.status_code, response.json()))
                index += concurrency

        await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return results


async def _run_promotions(url: str, vhost: str, bad: str) -> list[tuple[int, Any]]:
    stop = asyncio.Event()
    load = asyncio.create_task(_load(url, stop, concurrency=16))
    await asyncio.sleep(1.0)
    _promote(vhost, "2", "1")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready = (await asyncio.to_thread(httpx.get, url + "/readyz")).json()
        if ready.get("model_version") == "2":
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)
    _promote(vhost, bad, "2")
    while time.monotonic() < deadline:
        if await asyncio.to_thread(_metric, url, "inference_model_refusals_total") >= 1:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)
    stop.set()
    return await load


def test_inference_swap_under_load_and_bad_version_refused(
    service: ManagedProcess, vhost: str, registry: Registry
) -> None:
    bad = _bad_version(registry)
    results = asyncio.run(_run_promotions(service.url, vhost, bad))

    failures = [(status, body) for status, body in results if status != 200]
    assert not failures, failures[:3]
    predictions = []
    for _, body in results:
        predictions.extend(body["predictions"] if "predictions" in body else [body])
    versions = [p["model_version"] for p in predictions]
    assert versions[0] == "1" and "2" in versions
    assert bad not in versions
    first_v2 = versions.index("2")
    assert set(versions[first_v2 + 50 :]) == {"2"}, "after the swap only version 2 serves"
    # requests of one batch request come from one forward pass: never a mix of versions
    for _, body in results:
        if "predictions" in body:
            assert len({p["model_version"] for p in body["predictions"]}) == 1

    ready = httpx.get(service.url + "/readyz").json()
    assert ready["model_version"] == "2" and ready["status"] == "ready"
    assert _metric(service.url, "inference_model_swaps_total") == 2  # initial load + v2
    assert _metric(service.url, "inference_model_refusals_total") == 1
    assert _metric(service.url, "inference_served_model_version") == 2

    # every decision is readable from the service's own audit log ...
    for prediction in predictions[:: max(1, len(predictions) // 20)]:
        record = httpx.get(f"{service.url}/api/v1/predictions/{prediction['prediction_id']}")
        assert record.status_code == 200
        assert record.json()["score"] == prediction["score"]
        assert record.json()["model_version"] == prediction["model_version"]

    # ... and published in prediction_logged (a scoring batch's decisions per message),
    # exactly once each, on the real queue
    expected = {p["prediction_id"] for p in predictions}
    messages: list[Any] = []
    decisions: list[Any] = []

    def all_published() -> bool:
        batch = drain(vhost, MONITORING_QUEUE)
        messages.extend(batch)
        decisions.extend(
            d for _, body in batch for d in PredictionLogged.from_message(body).decisions
        )
        return len(decisions) >= len(expected)

    wait_for(all_published, 30, f"{len(expected)} logged decisions")
    assert {d.prediction.prediction_id for d in decisions} == expected
    assert len(decisions) == len(expected)  # none twice
    assert len(messages) <= len(expected)
    assert all(props.headers.get("traceparent") for props, _ in messages)
    assert all(d.traceparent for d in decisions)
    sample = PredictionLogged.from_message(messages[0][1])
    assert len(sample.decisions[0].features) == 13 and sample.feature_spec_version == "1"


def test_a_dry_run_is_answered_and_leaves_no_trace(service: ManagedProcess, vhost: str) -> None:
    """The dry-run contract (a proxy's shadow copy, the closed-loop gate's probe): scored
    and answered like any request, said so in the answer, never audited, never announced."""
    tx = generate(1, seed=77)[0].model_copy(update={"is_fraud": None})
    body = tx.model_dump_json(exclude_none=True)
    headers = {"content-type": "application/json", "X-Dry-Run": "true"}
    dry = httpx.post(f"{service.url}/api/v1/predictions", content=body, headers=headers)
    assert dry.status_code == 200 and dry.headers["x-dry-run"] == "true"
    assert dry.json()["decision"] in ("approve", "review", "decline")
    real = httpx.post(
        f"{service.url}/api/v1/predictions",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert real.status_code == 200 and "x-dry-run" not in real.headers
    assert real.json()["score"] == dry.json()["score"]  # the same model, the same answer

    assert (
        httpx.get(f"{service.url}/api/v1/predictions/{dry.json()['prediction_id']}").status_code
        == 404
    )
    assert httpx.get(f"{service.url}/api/v1/predictions/{real.json()['prediction_id']}").is_success
    published: list[str] = []

    def announced() -> bool:
        for _, message in drain(vhost, MONITORING_QUEUE):
            published.extend(
                d.prediction.prediction_id for d in PredictionLogged.from_message(message).decisions
            )
        return real.json()["prediction_id"] in published

    wait_for(announced, 20, "the real decision's prediction_logged")
    time.sleep(0.5)
    announced()
    assert dry.json()["prediction_id"] not in published
    metrics = httpx.get(f"{service.url}/metrics").text
    assert "inference_dry_run_predictions_total 1.0" in metrics
