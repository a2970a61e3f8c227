"""Message pacts of the inference service (pact-python 4.2's message API directly, after
the ingestion pact next door; ``contracts.messaging`` has no message-pact helper):

- producer of ``prediction_logged`` for monitoring: the expectation is what a drift window
  needs (the feature vector, the score, the model version, the spec version, the trace);
  the monitoring service is not built yet, so its side here is the contract's own
  decoder plus those checks. The provider side is the service's real message builder
  (``messaging.prediction_logged`` + ``encode``) on a real scored batch.
- consumer of ``model_promoted`` from training: the service's real handler
  (``InferenceMessaging._on_model_promoted``) swaps the model and records the event id.
  Training is not built yet: its provider verification of this pact is its job.

Both pact files are written under ``contracts/pacts``.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch
from pact import Pact, Verifier, match
from pact.error import PactVerificationError

from contracts import pacts
from contracts.datagen import generate
from contracts.events import route_for
from contracts.events.models import PredictionLogged
from contracts.features import N_FEATURES, transform_many
from contracts.messaging import decode, encode
from extracted_services.inference.backends import TorchBackend
from extracted_services.inference.hotswap import HotSwapper
from extracted_services.inference.messaging import InferenceMessaging, prediction_logged
from extracted_services.inference.registry import ServedModel
from extracted_services.inference.runtime import Runtime
from extracted_services.inference.scorer import ScoreJob, score_jobs
from extracted_services.inference.settings import Settings

RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
TRACEPARENT = r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"
UUID = "0b6f1d7e-8a55-4c31-9b8e-5c2a4f0f3a10"
LOGGED = "a prediction_logged event for one audited decision"
PROMOTED = "a model_promoted event for a registry version"


def _metadata(exchange: str, event_type: str) -> dict[str, Any]:
    return {
        "contentType": "application/json",
        "exchange": exchange,
        "routing_key": event_type,
        "delivery_mode": 2,
        "event_id": match.str(UUID),
        "event_type": event_type,
        "schema_version": 1,
        "occurred_at": match.regex("2026-11-25T10:15:01.5+00:00", regex=RFC3339),
        "traceparent": match.regex(
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", regex=TRACEPARENT
        ),
    }


def _verify_consumer(pact: Pact, handler: Any) -> None:
    try:
        pact.verify(handler, "Async")
    except PactVerificationError as exc:  # say which check failed, not just "count: 1"
        raise AssertionError([repr(e.error) for e in exc.errors]) from exc


def _module() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(N_FEATURES, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1)
    ).eval()


def _served(version: str) -> ServedModel:
    return ServedModel(
        name="risk-scorer",
        version=version,
        uri=f"models:/risk-scorer/{version}",
        feature_spec_version="1",
        backend=TorchBackend(_module()),
    )


# -- prediction_logged: inference -> monitoring -------------------------------------------


def test_monitoring_expectation_of_prediction_logged() -> None:
    pact = Pact("monitoring", "inference").with_specification("V4")
    attribution = {
        "feature": match.str("amount_vs_category"),
        "value": match.number(1.2),
        "attribution": match.number(0.9),
    }
    transaction = {
        "transaction_id": match.str("tx-000001"),
        "account_id": match.str("acct-0042"),
        "amount": match.number(42.5),
        "currency": match.regex("EUR", regex=r"^[A-Z]{3}$"),
        "merchant_category": match.regex("5411", regex=r"^[0-9]{4}$"),
        "country": match.regex("DE", regex=r"^[A-Z]{2}$"),
        "channel": match.regex("pos", regex=r"^(web|pos|atm|mobile)$"),
        "timestamp": match.regex("2026-11-25T10:15:00+01:00", regex=RFC3339),
    }
    (
        pact.upon_receiving(LOGGED, "Async")
        .with_body(
            {
                "event_id": match.str(UUID),
                "event_type": "prediction_logged",
                "occurred_at": match.regex("2026-11-25T10:15:01.5Z", regex=RFC3339),
                "schema_version": 1,
                "prediction": {
                    "prediction_id": match.str("5f0c6b1e-2b7a-4c8e-9a53-0d3f1f9d2c11"),
                    "transaction_id": match.str("tx-000001"),
                    "score": match.number(0.12),
                    "decision": match.regex("approve", regex=r"^(approve|review|decline)$"),
                    "model_version": match.str("1"),
                    "explanation": match.each_like(attribution, min=1),
                    "created_at": match.regex("2026-11-25T10:15:01.5Z", regex=RFC3339),
                    "transaction": transaction,
                },
                "features": match.type([0.5] * N_FEATURES, min=N_FEATURES),
                "feature_spec_version": match.str("1"),
            },
            "application/json",
        )
        .with_metadata(_metadata("inference.events", "prediction_logged"))
    )
    window: list[tuple[list[float], float, str]] = []

    def monitoring(body: str | bytes | None, metadata: dict[str, object]) -> None:
        assert body is not None
        raw = body.encode() if isinstance(body, str) else body
        delivery = decode(
            route_for("prediction_logged"),
            raw,
            content_type=str(metadata.get("contentType")),
            headers=metadata,
        )
        event = delivery.event
        assert isinstance(event, PredictionLogged) and delivery.traceparent is not None
        assert len(event.features) == N_FEATURES  # a drift window needs the whole vector
        window.append((event.features, event.prediction.score, event.prediction.model_version))

    _verify_consumer(pact, monitoring)
    assert len(window) == 1 and window[0][2] == "1"
    pact.write_file(pacts.PACT_DIR, overwrite=True)


def test_inference_produces_the_prediction_logged_monitoring_expects() -> None:
    transactions = generate(3, seed=5)
    job = ScoreJob(transactions, transform_many(transactions), None)
    (entries,) = score_jobs(_served("7"), [job])

    def produce() -> dict[str, Any]:
        message = encode(prediction_logged(entries[0]))
        return {
            "contents": message.body,
            "metadata": message.pact_metadata(),
            "content_type": message.content_type,
        }

    verifier = (
        Verifier("inference", host="127.0.0.1")
        .message_handler({LOGGED: produce})
        .add_source(pacts.PACT_DIR / "monitoring-inference.json")
    )
    try:
        verifier.verify()
    except RuntimeError as exc:
        raise AssertionError(verifier.output(strip_ansi=True)) from exc


# -- model_promoted: training -> inference ------------------------------------------------


def test_inference_consumes_the_model_promoted_it_expects(tmp_path: Path) -> None:
    pact = Pact("inference", "training").with_specification("V4")
    (
        pact.upon_receiving(PROMOTED, "Async")
        .with_body(
            {
                "event_id": match.str(UUID),
                "event_type": "model_promoted",
                "occurred_at": match.regex("2026-11-25T10:15:01.5Z", regex=RFC3339),
                "schema_version": 1,
                "model_version": match.str("3"),
                "previous_version": match.str("2"),
                "model_uri": match.regex("models:/risk-scorer/3", regex=r"^models:/[^/]+/\d+$"),
                "feature_spec_version": match.str("1"),
                "promoted_at": match.regex("2026-11-25T10:15:01.5Z", regex=RFC3339),
                "reason": match.regex("promotion", regex=r"^(promotion|rollback)$"),
            },
            "application/json",
        )
        .with_metadata(_metadata("training.events", "model_promoted"))
    )
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'inference.db'}",
        work_dir=tmp_path,
        messaging_enabled=False,
    )
    runtime = Runtime(settings)
    loads: list[str] = []

    def load(uri: str) -> ServedModel:
        loads.append(uri)
        return _served(uri.rsplit("/", 1)[1])

    pool = ThreadPoolExecutor(1)
    runtime.swapper = HotSwapper(runtime.holder, load, pool)
    messaging = InferenceMessaging(runtime)
    runtime.db.create_schema(messaging.metadata)
    handled: list[str] = []

    def inference(body: str | bytes | None, metadata: dict[str, object]) -> None:
        assert body is not None
        raw = body.encode() if isinstance(body, str) else body
        delivery = decode(
            route_for("model_promoted"),
            raw,
            content_type=str(metadata.get("contentType")),
            headers=metadata,
        )
        asyncio.run(messaging._on_model_promoted(delivery))
        handled.append(delivery.event_id)

    try:
        _verify_consumer(pact, inference)
        assert loads == ["models:/risk-scorer/3"]
        assert runtime.holder.current is not None and runtime.holder.current.version == "3"
        with runtime.db.session() as session:
            assert messaging.processed.seen(session, handled[0])
    finally:
        pool.shutdown()
        runtime.db.dispose()
    pact.write_file(pacts.PACT_DIR, overwrite=True)
    written = json.loads((pacts.PACT_DIR / "inference-training.json").read_text())
    assert [i["description"] for i in written["interactions"]] == [PROMOTED]
