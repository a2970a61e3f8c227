"""The monitoring worker: a nameko service with its event handlers and HTTP entrypoints.

One process (``python -m extracted_services.monitoring``): nameko's ``@http`` entrypoint
(the kit's, ``service_runtime.problems_nameko``: every error is problem+json, a bad
``window`` the monolith's 422) serves the drift report and the operations endpoints, the
``BatchEventHandler`` takes ``prediction_logged`` in batches (one insert and one ack per
batch), the ``DeadLetteringEventHandler`` consumes ``training_completed``, and the
:class:`Monitor` dependency runs the periodic drift check and relays the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from nameko.extensions import DependencyProvider
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from werkzeug.wrappers import Request, Response

from contracts.events.models import PredictionLogged, TrainingCompleted
from contracts.monitoring import Health, Readiness, drift_window
from eventbus.nameko_handler import batch_event_handler as _batch_event_handler
from eventbus.nameko_handler import event_handler as _event_handler
from extracted_services.monitoring.metrics import Metrics
from extracted_services.monitoring.monitor import Monitor
from extracted_services.monitoring.settings import Settings
from extracted_services.monitoring.store import Database
from service_runtime.problems_nameko import http

SERVICE = "monitoring"
_F = TypeVar("_F", bound=Callable[..., Any])
# nameko is untyped: its decorators return the function they are given.
event_handler = cast(Callable[..., Callable[[_F], _F]], _event_handler)
batch_event_handler = cast(Callable[..., Callable[[_F], _F]], _batch_event_handler)


class MonitorProvider(DependencyProvider):  # type: ignore[misc]
    """Builds the :class:`Monitor` from ``config["MONITORING_SETTINGS"]`` (or the
    environment); runs its drift checks and outbox relay with the container, unless it
    serves a consumer-only replica (``duties=False``)."""

    monitor: Monitor

    def __init__(self, duties: bool = True) -> None:
        self.duties = duties

    def setup(self) -> None:
        settings = self.container.config.get("MONITORING_SETTINGS") or Settings()
        settings = settings.model_copy(update={"amqp_uri": self.container.config["AMQP_URI"]})
        db = Database(settings.database_url)
        db.create_schema()
        self.monitor = Monitor(settings, db, Metrics())

    def start(self) -> None:
        self.monitor.start(relay=self.duties, checks=self.duties)

    def stop(self) -> None:
        self.monitor.stop()
        self.monitor.db.dispose()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> Monitor:
        return self.monitor


def _json(body: Any, status: int = 200) -> Response:
    return Response(body, status=status, content_type="application/json")


class MonitoringService:
    name = SERVICE
    monitor: Monitor = MonitorProvider()

    @batch_event_handler("inference", "prediction_logged")
    def handle_prediction_logged(self, events: list[PredictionLogged]) -> None:
        self.monitor.record_predictions(events)

    @event_handler("training", "training_completed")
    def handle_training_completed(self, event: TrainingCompleted) -> None:
        self.monitor.record_reference(event)

    @http("GET", "/api/v1/monitoring/drift")
    def drift(self, request: Request) -> Response:
        window = drift_window(request.args.get("window"))  # a bad one: a 422 problem
        return _json(self.monitor.report(window).model_dump_json())

    @http("GET", "/healthz")
    def healthz(self, request: Request) -> Response:
        return _json(Health(service=SERVICE).model_dump_json())

    @http("GET", "/readyz")
    def readyz(self, request: Request) -> Response:
        checks = {"database": "ok"}
        try:
            with self.monitor.db.session() as session:
                session.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            checks["database"] = f"error: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        body = Readiness(status="ready" if ready else "not_ready", service=SERVICE, checks=checks)
        return _json(body.model_dump_json(), 200 if ready else 503)

    @http("GET", "/metrics")
    def metrics(self, request: Request) -> Response:
        return Response(
            generate_latest(self.monitor.metrics.registry), content_type=CONTENT_TYPE_LATEST
        )


class MonitoringConsumer:
    """A consumer-only replica (``python -m extracted_services.monitoring consume``): takes
    ``prediction_logged`` from the same queue as the main worker (competing consumers) and
    stores it in the same database. No HTTP, no drift checks, no alarms: those stay with
    the one main worker, so an episode is still raised once."""

    name = SERVICE
    monitor: Monitor = MonitorProvider(duties=False)

    @batch_event_handler("inference", "prediction_logged")
    def handle_prediction_logged(self, events: list[PredictionLogged]) -> None:
        self.monitor.record_predictions(events)
