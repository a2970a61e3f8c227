"""What the inference service says and hears on the broker, through ``contracts.messaging``.

Produces ``prediction_logged`` through the **transactional outbox**: each batch's audit
rows and its events are written in one database transaction, and the relay publishes
committed rows with publisher confirms, deleting only confirmed ones. Why an outbox and
not a direct publish after the commit: a decision that was answered must be announced
even if the broker is down for a while or the process dies right after answering, and a
publish inside the request would put broker latency (and outages) on the scoring path.
Delivery is at least once; monitoring dedupes by ``event_id``.

Consumes ``model_promoted`` (queue ``evt-training-model_promoted--inference.handle_model_
promoted``) and hot-swaps: a redelivered event (same ``event_id``) or one older than the
last applied promotion changes nothing; a version the registry could not be asked about
is retried through the delay queue; a version that fails its checks is refused (logged and
counted) and the event is acknowledged: that refusal is the outcome.

Every instance of the service consumes from the one shared queue (competing consumers):
with several replicas, run one consumer per replica on its own queue instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import MetaData
from sqlalchemy.orm import Session

from contracts.events.models import ModelPromoted, PredictionLogged
from contracts.features import FEATURE_SPEC_VERSION, is_compatible
from contracts.messaging import (
    AsyncConsumer,
    AsyncPublisher,
    Delivery,
    Outbox,
    OutboxRelay,
    ProcessedEvents,
    RetryPolicy,
    build_topology,
    encode,
    outbox_table,
    processed_events_table,
)
from extracted_services.inference.audit import AuditEntry
from extracted_services.inference.runtime import Runtime

logger = logging.getLogger(__name__)

CONSUMER = "inference"


class TransientPromotionFailure(RuntimeError):
    """The registry could not be asked; the consumer retries the event later."""


def prediction_logged(entry: AuditEntry) -> PredictionLogged:
    """The event that announces one audited decision."""
    return PredictionLogged(
        prediction=entry.record(),
        features=entry.features,
        feature_spec_version=FEATURE_SPEC_VERSION,
    )


class InferenceMessaging:
    """Outbox + relay for ``prediction_logged``; consumer of ``model_promoted``."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self.metadata = MetaData()
        self.outbox = Outbox(outbox_table(self.metadata))
        self.processed = ProcessedEvents(processed_events_table(self.metadata), CONSUMER)
        topology = build_topology()
        self.publisher = AsyncPublisher(
            settings.amqp_uri, topology=topology, name="inference-publisher"
        )
        self.relay = OutboxRelay(
            runtime.db.session,
            self.outbox,
            self.publisher,
            on_published=lambda n, _ages: runtime.metrics.events_published.inc(n),
        )
        self.consumer = AsyncConsumer(
            settings.amqp_uri,
            topology.consumer_queue(CONSUMER, ModelPromoted.type_name()),
            self._on_model_promoted,
            policy=RetryPolicy(max_retries=5, delay_s=2.0),
            prefetch=1,
            topology=topology,
            name="inference-model-promoted",
        )
        self._last_promoted_at: datetime | None = None

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.runtime.db.create_schema, self.metadata)
        self.runtime.outlet = self
        self.runtime.broker_status = self.status
        await self.publisher.start()
        await self.relay.start()
        await self.consumer.start()

    async def stop(self) -> None:
        await self.consumer.close()
        # One last pass so that events of the final batches leave before we go.
        if self.publisher.connected:
            try:
                await asyncio.wait_for(self.relay.relay_once(), 5.0)
            except Exception as exc:  # noqa: BLE001 - they stay in the outbox for next start
                logger.warning("final outbox pass failed: %s", exc)
        await self.relay.close()
        await self.publisher.close()

    def status(self) -> str:
        if not self.publisher.connected:
            return f"publisher not connected: {self.publisher.last_error}"
        if not self.consumer.connected:
            return f"consumer not connected: {self.consumer.last_error}"
        return "ok"

    # -- producing (called on the audit thread, inside the audit transaction) -------------
    def stage(self, session: Session, entries: Sequence[AuditEntry]) -> None:
        for entry in entries:
            message = encode(prediction_logged(entry), traceparent=entry.traceparent)
            self.outbox.add(session, message)

    def committed(self) -> None:
        """A batch committed (called on the event loop): relay now, not at the next poll."""
        self.relay.wake()

    # -- consuming ------------------------------------------------------------------------
    async def _on_model_promoted(self, delivery: Delivery) -> None:
        event = delivery.event
        assert isinstance(event, ModelPromoted)
        loop = asyncio.get_running_loop()
        db = self.runtime.db

        def seen() -> bool:
            with db.session() as session:
                return self.processed.seen(session, event.event_id)

        if await loop.run_in_executor(None, seen):
            logger.info("model_promoted %s already handled", event.event_id)
            return
        if self._last_promoted_at is not None and event.promoted_at < self._last_promoted_at:
            logger.warning(
                "ignoring model_promoted %s for version %s: older than the last promotion",
                event.event_id,
                event.model_version,
            )
        elif not is_compatible(event.feature_spec_version):
            self.runtime.metrics.refused.inc()
            logger.error(
                "refused model %s version %s: feature spec %s is not %s",
                event.model_uri,
                event.model_version,
                event.feature_spec_version,
                FEATURE_SPEC_VERSION,
            )
        else:
            outcome = await self.runtime.promote(event.model_uri, event.model_version)
            if outcome.status == "refused" and outcome.transient:
                raise TransientPromotionFailure(outcome.reason or "registry unavailable")
            if outcome.status != "refused":
                self._last_promoted_at = event.promoted_at

        def record() -> None:
            with db.session() as session:
                self.processed.record(session, event.event_id, event.event_type)

        await loop.run_in_executor(None, record)


async def start_messaging(runtime: Runtime) -> InferenceMessaging:
    """The lifespan's messaging factory."""
    messaging = InferenceMessaging(runtime)
    await messaging.start()
    return messaging
