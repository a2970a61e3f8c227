"""Message pacts of the inference service, with the kit's mechanism
(``migration_playbook.gates.message_pacts``), written to ``contracts/pacts``:

- consumer of ``model_promoted`` (from training): the pact's message goes to the service's
  real handler (``InferenceMessaging.on_model_promoted``), which must swap the served
  model and record the ``event_id``; training's builder verifies against this file.
- producer of ``prediction_logged`` (for monitoring): the monitoring service is not built
  yet, so its expectation is recorded here with a handler that checks what a drift window
  needs (the whole feature vector, the score, the versions, the trace); the provider side
  is the service's real message builder (``messaging.prediction_logged`` + ``encode``, the
  exact bytes the outbox stores) on a real scored batch.
- consumer of ``challenger_proposed`` (from training): the real handler must load the
  proposed version and start scoring it beside the champion; training's builder verifies.
- producer of ``shadow_scored`` (for training): the real report of a shadow scoring
  (``shadow.ShadowRun``) verifies against training's recorded expectation.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from contracts import pacts
from contracts.events import Event, new_traceparent, route_for
from contracts.events.models import (
    ChallengerProposed,
    LoggedDecision,
    ModelPromoted,
    PredictionLogged,
)
from contracts.features import N_FEATURES, transform_many
from contracts.predictions import PredictionRecord
from contracts.registry import DataWindow, HoldoutEvaluation
from datagen import generate
from eventbus import Delivery, encode
from extracted_services.inference.backends import TorchBackend
from extracted_services.inference.hotswap import HotSwapper
from extracted_services.inference.messaging import InferenceMessaging, prediction_logged
from extracted_services.inference.registry import ServedModel
from extracted_services.inference.runtime import Runtime
from extracted_services.inference.scorer import ScoreJob, score_jobs
from extracted_services.inference.settings import Settings
from extracted_services.inference.shadow import ShadowRun
from migration_playbook.gates.message_pacts import record_message_pact, verify_message_pacts

EVENT_ID = "0b6f1d7e-8a55-4c31-9b8e-5c2a4f0f3a10"
PREDICTION_ID = "5f0c6b1e-2b7a-4c8e-9a53-0d3f1f9d2c11"
AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


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


def _scored_entries() -> list[Any]:
    transactions = generate(3, seed=5)
    # The service gives every job the request's traceparent (or a new one).
    job = ScoreJob(transactions, transform_many(transactions), new_traceparent())
    (entries,) = score_jobs(_served("7"), [job])
    return entries


# -- model_promoted: training -> inference ------------------------------------------------


def test_inference_consumes_the_model_promoted_it_expects(tmp_path: Path) -> None:
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

    def handle(event: Event, headers: Mapping[str, str]) -> None:
        delivery = Delivery(event=event, route=route_for("model_promoted"), headers=headers)
        asyncio.run(messaging.on_model_promoted(delivery))
        handled.append(event.event_id)

    example = ModelPromoted(
        event_id=EVENT_ID,
        occurred_at=AT,
        model_version="3",
        previous_version="2",
        model_uri="models:/risk-scorer/3",
        feature_spec_version="1",
        promoted_at=datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
    )
    try:
        written = record_message_pact("inference", example, handle, pacts.PACT_DIR)
        assert loads == ["models:/risk-scorer/3"]
        assert runtime.holder.current is not None and runtime.holder.current.version == "3"
        with runtime.db.session() as session:
            assert messaging.processed.seen(session, handled[0])
    finally:
        pool.shutdown()
        runtime.db.dispose()
    document = json.loads(written.read_text())
    assert (document["consumer"]["name"], document["provider"]["name"]) == (
        "inference",
        "training",
    )


# -- prediction_logged: inference -> monitoring -------------------------------------------


def _published(entries: list[Any]) -> Any:
    """Exactly what the outbox stores and the relay publishes for a scored batch."""
    (event,) = prediction_logged(entries)
    return encode(event, traceparent=event.decisions[0].traceparent)


def test_inference_produces_the_prediction_logged_monitoring_expects() -> None:
    entry = _scored_entries()[0]
    window: list[tuple[int, float, str]] = []

    def monitoring(event: Event, headers: Mapping[str, str]) -> None:
        assert isinstance(event, PredictionLogged) and headers.get("traceparent")
        for decision in event.decisions:
            # a drift window needs the whole vector, the score and the versions
            assert len(decision.features) == N_FEATURES
            window.append(
                (len(decision.features), decision.prediction.score, event.feature_spec_version)
            )

    # Fixed ids and times, so that re-recording the committed pact changes nothing.
    record = entry.record().model_copy(update={"prediction_id": PREDICTION_ID, "created_at": AT})
    example = PredictionLogged(
        event_id=EVENT_ID,
        occurred_at=AT,
        decisions=[
            LoggedDecision(
                prediction=PredictionRecord(**record.model_dump()),
                features=entry.features,
                traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            )
        ],
        feature_spec_version="1",
    )
    pact_file = record_message_pact("monitoring", example, monitoring, pacts.PACT_DIR)
    assert window == [(N_FEATURES, entry.prediction.score, "1")]

    def build() -> Any:
        return _published(_scored_entries())

    result = verify_message_pacts("inference", {"prediction_logged": build}, [pact_file])
    assert result.passed, result.output


def test_a_prediction_logged_without_features_fails_verification() -> None:
    pact_file = pacts.PACT_DIR / "monitoring-inference.json"
    assert pact_file.exists()

    def broken() -> Any:
        message = _published(_scored_entries())
        body = json.loads(message.body)
        for decision in body["decisions"]:
            del decision["features"]
        return type(message)(
            **{**message.__dict__, "body": json.dumps(body).encode()}  # same message, no vector
        )

    result = verify_message_pacts("inference", {"prediction_logged": broken}, [pact_file])
    assert not result.passed and "features" in result.output


# -- challenger_proposed: training -> inference; shadow_scored: inference -> training ----

WINDOW = DataWindow(start=AT, end=AT, rows=400)
EVALUATION = HoldoutEvaluation(
    rows=400,
    positives=32,
    window=WINDOW,
    sufficient=True,
    challenger_roc_auc=0.96,
    champion_version="3",
    champion_roc_auc=0.71,
    summary="ROC AUC 0.9600 vs champion v3 0.7100 on the same 400 rows, 32 fraud",
)


def test_inference_consumes_the_challenger_proposed_it_expects(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'inference.db'}",
        work_dir=tmp_path,
        messaging_enabled=False,
    )
    runtime = Runtime(settings)
    runtime.holder.publish(_served("3"))
    loads: list[str] = []

    def load(uri: str) -> ServedModel:
        loads.append(uri)
        return _served(uri.rsplit("/", 1)[1])

    runtime.loader.load = load  # type: ignore[method-assign]
    messaging = InferenceMessaging(runtime)
    runtime.db.create_schema(messaging.metadata)

    def handle(event: Event, headers: Mapping[str, str]) -> None:
        delivery = Delivery(event=event, route=route_for("challenger_proposed"), headers=headers)
        asyncio.run(messaging.on_challenger_proposed(delivery))

    example = ChallengerProposed(
        event_id=EVENT_ID,
        occurred_at=AT,
        model_version="4",
        model_uri="models:/risk-scorer/4",
        champion_version="3",
        feature_spec_version="1",
        rows=200,
        evaluation=EVALUATION,
        proposed_at=AT,
    )
    try:
        record_message_pact("inference", example, handle, pacts.PACT_DIR)
        assert loads == ["models:/risk-scorer/4"]
        shadow = runtime.shadow
        assert shadow is not None and shadow.champion_version == "3" and not shadow.done
        assert shadow.proposal.rows == 200
    finally:
        runtime.db.dispose()


def test_inference_produces_the_shadow_scored_training_expects() -> None:
    def build() -> Any:  # the service's real report of a completed shadow scoring
        proposal = ChallengerProposed(
            model_version="4",
            model_uri="models:/risk-scorer/4",
            champion_version="3",
            feature_spec_version="1",
            rows=3,
            evaluation=EVALUATION,
            proposed_at=AT,
        )
        run = ShadowRun(proposal, _served("4"), "3", "host-1")
        entries = _scored_entries()
        features = np.array([e.features for e in entries], dtype=np.float32)
        run.observe("3", features, np.array([e.prediction.score for e in entries]))
        assert run.outcome == "completed"
        return encode(run.report())

    pact_file = pacts.PACT_DIR / "training-inference.json"
    result = verify_message_pacts("inference", {"shadow_scored": build}, [pact_file])
    assert result.passed, result.output
