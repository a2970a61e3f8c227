"""The training worker: a nameko service with its event handlers and HTTP entrypoints.

One process (``python -m extracted_services.training``) serves both sides: nameko's
``@http`` entrypoint (werkzeug, on ``WEB_SERVER_ADDRESS``) answers the public API, the
``BatchEventHandler`` takes ``transactions_ingested`` in batches (one commit and one ack
per batch), the ``DeadLetteringEventHandler`` consumes ``drift_detected`` and ``shadow_scored`` (the
inference service's verdict on a proposed version),
and the :class:`Trainer` dependency runs the training jobs and relays the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import requests
from nameko.extensions import DependencyProvider
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from werkzeug.wrappers import Request, Response

from contracts.events.models import DriftDetected, ShadowScored, TransactionsIngested
from contracts.monitoring import Health, Readiness
from contracts.registry import ModelList, TrainingRunRequest
from eventbus.nameko_handler import batch_event_handler as _batch_event_handler
from eventbus.nameko_handler import event_handler as _event_handler
from extracted_services.training.errors import NotFound
from extracted_services.training.http import json_response, model_body
from extracted_services.training.metrics import Metrics
from extracted_services.training.registry import CHAMPION, Registry
from extracted_services.training.runs import Trainer
from extracted_services.training.settings import Settings
from service_runtime.problems_nameko import http

SERVICE = "training"
_F = TypeVar("_F", bound=Callable[..., Any])
# nameko is untyped: its decorators return the function they are given.
event_handler = cast(Callable[..., Callable[[_F], _F]], _event_handler)
batch_event_handler = cast(Callable[..., Callable[[_F], _F]], _batch_event_handler)
API = "/api/v1/models"


class TrainerProvider(DependencyProvider):  # type: ignore[misc]
    """Builds the :class:`Trainer` from ``config["TRAINING_SETTINGS"]`` (or the environment)
    at container set-up; starts its run and relay threads with the container, unless it
    serves a consumer-only replica (``duties=False``)."""

    trainer: Trainer

    def __init__(self, duties: bool = True) -> None:
        self.duties = duties

    def setup(self) -> None:
        settings = self.container.config.get("TRAINING_SETTINGS") or Settings()
        # The container's broker is the one the relay must publish to.
        settings = settings.model_copy(update={"amqp_uri": self.container.config["AMQP_URI"]})
        from extracted_services.training.store import Database

        db = Database(settings.database_url)
        db.create_schema()
        registry = Registry(settings.mlflow_tracking_uri, settings.model_name)
        self.trainer = Trainer(settings, db, registry, Metrics())

    def start(self) -> None:
        if self.duties:
            self.trainer.start()

    def stop(self) -> None:
        self.trainer.stop()
        self.trainer.db.dispose()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> Trainer:
        return self.trainer


class TrainingService:
    name = SERVICE
    trainer: Trainer = TrainerProvider()

    # -- events ----------------------------------------------------------------------------
    @batch_event_handler("ingestion", "transactions_ingested")
    def handle_transactions_ingested(self, events: list[TransactionsIngested]) -> None:
        self.trainer.ingest_many(events)

    @event_handler("monitoring", "drift_detected")
    def handle_drift_detected(self, event: DriftDetected) -> None:
        self.trainer.handle_drift(event)

    @event_handler("inference", "shadow_scored")
    def handle_shadow_scored(self, event: ShadowScored) -> None:
        self.trainer.handle_shadow(event)

    # -- public API ------------------------------------------------------------------------
    @http("POST", f"{API}/training-runs")
    def start_training_run(self, request: Request) -> Response:
        params = model_body(request, TrainingRunRequest)
        run = self.trainer.submit(params)
        location = f"{API}/training-runs/{run.run_id}"
        return json_response(run, 202, Location=location)

    @http("GET", f"{API}/training-runs/<run_id>")
    def get_training_run(self, request: Request, run_id: str) -> Response:
        return json_response(self.trainer.get(run_id))

    @http("GET", API)
    def list_models(self, request: Request) -> Response:
        current, versions = self.trainer.registry.versions()
        return json_response(ModelList(current_version=current, models=versions))

    @http("GET", f"{API}/current")
    def current_model(self, request: Request) -> Response:
        current = self.trainer.registry.alias_version(CHAMPION)
        if current is None:
            raise NotFound(
                "no model is serving yet; train one with POST /api/v1/models/training-runs"
            )
        return json_response(self.trainer.registry.get(current))

    @http("POST", f"{API}/<version>/promote")
    def promote(self, request: Request, version: str) -> Response:
        return json_response(self.trainer.promote(version))

    # -- operations ------------------------------------------------------------------------
    @http("GET", "/healthz")
    def healthz(self, request: Request) -> Response:
        return json_response(Health(service=SERVICE))

    @http("GET", "/readyz")
    def readyz(self, request: Request) -> Response:
        checks = {"database": "ok", "registry": "ok"}
        try:
            with self.trainer.db.session() as session:
                session.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            checks["database"] = f"error: {type(exc).__name__}"
        uri = self.trainer.settings.mlflow_tracking_uri
        if uri.startswith("http"):
            try:
                requests.get(uri.rstrip("/") + "/health", timeout=2.0).raise_for_status()
            except requests.RequestException as exc:
                checks["registry"] = f"error: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        body = Readiness(status="ready" if ready else "not_ready", service=SERVICE, checks=checks)
        return json_response(body, 200 if ready else 503)

    @http("GET", "/metrics")
    def metrics(self, request: Request) -> Response:
        return Response(
            generate_latest(self.trainer.metrics.registry), content_type=CONTENT_TYPE_LATEST
        )


class TrainingConsumer:
    """A consumer-only replica (``python -m extracted_services.training consume``): takes
    ``transactions_ingested`` from the same queue as the main worker (competing consumers)
    into the same training store. No HTTP, no runs, no promotions: those stay with the one
    main worker."""

    name = SERVICE
    trainer: Trainer = TrainerProvider(duties=False)

    @batch_event_handler("ingestion", "transactions_ingested")
    def handle_transactions_ingested(self, events: list[TransactionsIngested]) -> None:
        self.trainer.ingest_many(events)
