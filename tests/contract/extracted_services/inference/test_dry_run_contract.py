"""The inference service honours the dry-run contract (``contracts.dry_run``) against a real
process (the session's MLflow registry, a real SQLite store, a real RabbitMQ vhost): a dry
run is scored and answered like any request and says so, and the audit table, the outbox
and the broker hold exactly what they held before it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mlflow.tracking import MlflowClient
from sqlalchemy import create_engine, text

from contracts.dry_run import DRY_RUN_HEADER, DRY_RUN_VALUE, honoured
from contracts.events.models import PredictionLogged
from datagen import generate
from eventbus import build_topology
from migration_playbook.runner.process import ManagedProcess
from tests.amqp_support import drain, fresh_vhost, wait_for
from tests.inference_fixtures import Registry
from tests.integration.extracted_services.inference._support import start_service

QUEUE = build_topology().consumer_queue("monitoring", "prediction_logged").name
JSON = {"content-type": "application/json"}


@pytest.fixture
def service(registry: Registry, inference_root: Path) -> Iterator[tuple[ManagedProcess, str, str]]:
    MlflowClient(registry.tracking_uri).set_registered_model_alias("risk-scorer", "champion", "1")
    name = f"dry-{time.monotonic_ns()}"
    with fresh_vhost("inference-dry") as uri:
        process = start_service(
            inference_root,
            name,
            registry.tracking_uri,
            AMQP_URI=uri,
            INFERENCE_MESSAGING_ENABLED="true",
        )
        try:
            yield process, f"sqlite:///{inference_root / name / 'inference.db'}", uri
        finally:
            process.stop()


def _counts(database: str) -> tuple[int, int]:
    engine = create_engine(database)
    try:
        with engine.connect() as connection:
            audit = connection.execute(text("SELECT count(*) FROM prediction_audit")).scalar_one()
            outbox = connection.execute(text("SELECT count(*) FROM outbox")).scalar_one()
    finally:
        engine.dispose()
    return int(audit), int(outbox)


def _published(uri: str) -> list[str]:
    return [
        decision.prediction.prediction_id
        for _, body in drain(uri, QUEUE)
        for decision in PredictionLogged.from_message(body).decisions
    ]


def test_a_dry_run_is_scored_and_answered_and_writes_and_publishes_nothing(
    service: tuple[ManagedProcess, str, str],
) -> None:
    process, database, uri = service
    url = f"{process.url}/api/v1/predictions"
    first, second, third = (
        t.model_copy(update={"is_fraud": None}) for t in generate(3, seed=41, id_prefix="dry")
    )
    real = httpx.post(url, content=first.model_dump_json(exclude_none=True), headers=JSON)
    assert real.status_code == 200 and not honoured(real.headers)
    seen: list[str] = []
    wait_for(lambda: bool(seen.extend(_published(uri)) or seen), 20, "the real decision")
    assert seen == [real.json()["prediction_id"]]
    wait_for(lambda: _counts(database) == (1, 0), 20, "the outbox to drain")

    batch = {
        "transactions": [t.model_dump(mode="json", exclude_none=True) for t in (second, third)]
    }
    dry = httpx.post(url, json=batch, headers={**JSON, DRY_RUN_HEADER: DRY_RUN_VALUE})
    assert dry.status_code == 200 and honoured(dry.headers)
    answered = dry.json()["predictions"]
    assert [p["transaction_id"] for p in answered] == [second.transaction_id, third.transaction_id]
    time.sleep(1.0)  # what the group commit and the relay would have done by now
    assert _counts(database) == (1, 0)
    assert _published(uri) == []
    for prediction in answered:
        assert httpx.get(f"{url}/{prediction['prediction_id']}").status_code == 404
    assert httpx.get(f"{url}/{real.json()['prediction_id']}").status_code == 200
