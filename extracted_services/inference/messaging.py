"""What the inference service says and hears on the broker, through ``eventbus``.

Produces ``prediction_logged`` through the **transactional outbox**: each batch's audit
rows and its event (the batch's decisions in one message) are written in one database
transaction, and the relay publishes
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

Every instance of the service (a uvicorn worker process, a replica) must swap, so each
consumes ``model_promoted`` on a queue of its own (``...handle_model_promoted@<instance>``,
the event table's ``broadcast_to``) and records handled events under its own name. After
a reconnect it loads the champion alias again, in case a promotion passed while it was
away long enough for the broker to drop its queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import MetaData
from sqlalchemy.orm import Session

from contracts.events import Event
from contracts.events.models import (
    MAX_LOGGED_DECISIONS,
    ChallengerProposed,
    LoggedDecision,
    ModelPromoted,
    PredictionLogged,
)
from contracts.features import FEATURE_SPEC_VERSION, is_compatible
from eventbus import (
    AsyncConsumer,
    AsyncPublisher,
    Delivery,
    Outbox,
    OutboxRelay,
    OutgoingMessage,
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


def prediction_logged(entries: Sequence[AuditEntry]) -> list[PredictionLogged]:
    """The events that announce audited decisions: one per ``MAX_LOGGED_DECISIONS``, in
    answer order (a scoring batch's decisions travel together)."""
    decisions = [
        LoggedDecision(
            prediction=entry.record(), features=entry.features, traceparent=entry.traceparent
        )
        for entry in entries
    ]
    return [
        PredictionLogged(
            decisions=decisions[start : start + MAX_LOGGED_DECISIONS],
            feature_spec_version=FEATURE_SPEC_VERSION,
        )
        for start in range(0, len(decisions), MAX_LOGGED_DECISIONS)
    ]


class InferenceMessaging:
    """Outbox + relay for ``prediction_logged``; consumer of ``model_promoted``."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self.metadata = MetaData()
        self.outbox = Outbox(outbox_table(self.metadata))
        instance = settings.instance_id
        self.processed = ProcessedEvents(
            processed_events_table(self.metadata), f"{CONSUMER}@{instance}"
        )
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
            topology.instance_queue(CONSUMER, ModelPromoted.type_name(), instance),
            self.on_model_promoted,
            policy=RetryPolicy(max_retries=5, delay_s=2.0),
            prefetch=1,
            topology=topology,
            name=f"inference-model-promoted@{instance}",
            on_connected=self._caught_up,
        )
        self._last_promoted_at: datetime | None = None
        self.instance = instance
        self.proposals = AsyncConsumer(
            settings.amqp_uri,
            topology.instance_queue(CONSUMER, ChallengerProposed.type_name(), instance),
            self.on_challenger_proposed,
            policy=RetryPolicy(max_retries=2, delay_s=2.0),
            prefetch=1,
            topology=topology,
            name=f"inference-challenger-proposed@{instance}",
        )

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.runtime.db.create_schema, self.metadata)
        self.runtime.outlet = self
        self.runtime.broker_status = self.status
        await self.publisher.start()
        await self.relay.start()
        await self.consumer.start()
        await self.proposals.start()

    async def stop(self) -> None:
        await self.proposals.close()
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
        for consumer in (self.consumer, self.proposals):
            if not consumer.connected:
                return f"{consumer.name} not connected: {consumer.last_error}"
        return "ok"

    # -- producing (called on the audit thread, inside the audit transaction) -------------
    def stage(self, session: Session, entries: Sequence[AuditEntry]) -> list[OutgoingMessage]:
        """Write the batch's ``prediction_logged`` into the audit's transaction (the message
        carries the first decision's trace; every decision carries its own)."""
        messages = [
            encode(event, traceparent=event.decisions[0].traceparent)
            for event in prediction_logged(entries)
        ]
        self.outbox.add_many(session, messages)
        return messages

    def committed(self, messages: Sequence[OutgoingMessage]) -> None:
        """A batch committed (called on the event loop): publish its events from memory
        now, without reading them back from the outbox."""
        self.relay.hand_over(messages)

    async def publish(self, event: Event) -> None:
        """Publish one event of the service's own through the outbox (a report)."""
        message = encode(event)

        def write() -> None:
            with self.runtime.db.session() as session:
                self.outbox.add(session, message)

        await asyncio.get_running_loop().run_in_executor(None, write)
        self.relay.hand_over([message])

    # -- consuming ------------------------------------------------------------------------
    async def on_challenger_proposed(self, delivery: Delivery) -> None:
        event = delivery.event
        if not isinstance(event, ChallengerProposed):
            raise TypeError(f"expected challenger_proposed, got {event.event_type}")
        if not await self._first_time(event):
            return
        if not is_compatible(event.feature_spec_version):
            logger.error("proposal v%s: feature spec %s is not %s", event.model_version,
                         event.feature_spec_version, FEATURE_SPEC_VERSION)  # fmt: skip
        else:
            logger.info("proposal v%s: shadow scoring %d live decisions beside the champion",
                        event.model_version, event.rows)  # fmt: skip
            await self.runtime.start_shadow(event, self.instance)
        await self._record(event)

    async def _first_time(self, event: Event) -> bool:
        db = self.runtime.db

        def seen() -> bool:
            with db.session() as session:
                return self.processed.seen(session, event.event_id)

        if await asyncio.get_running_loop().run_in_executor(None, seen):
            logger.info("%s %s already handled", event.event_type, event.event_id)
            return False
        return True

    async def _record(self, event: Event) -> None:
        db = self.runtime.db

        def record() -> None:
            with db.session() as session:
                self.processed.record(session, event.event_id, event.event_type)

        await asyncio.get_running_loop().run_in_executor(None, record)

    async def _caught_up(self, connects: int) -> None:
        """After a reconnect, serve what the registry's alias names now (a swap only when
        it moved while this instance was away)."""
        if connects > 1:
            await self.runtime.promote(self.runtime.settings.model_uri)

    async def on_model_promoted(self, delivery: Delivery) -> None:
        event = delivery.event
        if not isinstance(event, ModelPromoted):
            raise TypeError(f"expected model_promoted, got {event.event_type}")
        if not await self._first_time(event):
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
        await self._record(event)


async def start_messaging(runtime: Runtime) -> InferenceMessaging:
    """The lifespan's messaging factory."""
    messaging = InferenceMessaging(runtime)
    await messaging.start()
    return messaging
