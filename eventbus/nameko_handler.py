"""The nameko side of the convention: import this module only from nameko workers.

nameko's ``EventHandler`` acks a message whose handler raised, and the event is lost.
:class:`DeadLetteringEventHandler` instead validates the body against the event table's
model (the method receives the typed event) and treats a failure as the asyncio consumers
do (``eventbus.retry``): a copy goes to ``<queue>.retry`` and comes back after the
policy's delay, up to ``max_retries`` times, then to ``<queue>.dlq`` with the reason in its
headers, where ``kit events dlq`` sees and replays it; the original is acked only after the
broker confirmed the copy. An unreadable body is parked at once. Should the copy not be
confirmed, the message is rejected and the broker's dead-letter policy (applied at
start-up with this layer's topology) parks it: never lost. Right for events that come a
few at a time (``drift_detected``, ``training_completed``).

:class:`BatchEventHandler` is for streams (``prediction_logged``, ``transactions_ingested``):
nameko spawns a worker, and the service commits and acks, once per message, which at a few
hundred events a second costs more CPU than the work. It consumes its queue with
:class:`~eventbus.consumer_batch.BatchConsumer` and runs one nameko worker per
batch: the method receives a list of typed events, stores them in one transaction, and
the batch is acked at once; a failing batch is retried one event at a time, and a failing
event goes through the delay queue and, after the last retry, to its dead-letter queue.

This module imports nameko (and so eventlet): nothing outside a nameko worker may import
it, which is why it is not re-exported from ``eventbus``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pika
from nameko.events import EventHandler
from nameko.exceptions import ConfigurationError
from nameko.extensions import Entrypoint

from contracts.events.catalog import route_for
from eventbus.consumer_batch import BatchConsumer
from eventbus.declare import apply_policies, declare_sync
from eventbus.management import Management
from eventbus.publisher_sync import SyncPublisher, connection_parameters
from eventbus.retry import RetryPolicy, on_failure
from eventbus.topology import ConsumerQueue, build_topology, handler_method
from eventbus.wire import Delivery, InvalidMessage, redirected

logger = logging.getLogger(__name__)


class DeadLetteringEventHandler(EventHandler):  # type: ignore[misc]
    """A nameko ``EventHandler`` that retries a failed event after a delay, parks it after
    the last retry, and never loses it."""

    def __init__(
        self,
        source_service: str,
        event_type: str,
        *,
        max_retries: int = 3,
        retry_delay_s: float = 1.0,
        **kwargs: Any,
    ) -> None:
        self.policy = RetryPolicy(max_retries, retry_delay_s)
        self._queue: ConsumerQueue | None = None
        self._publisher: SyncPublisher | None = None
        self._publish_lock = threading.Lock()
        super().__init__(source_service, event_type, **kwargs)

    def setup(self) -> None:
        expected = handler_method(self.event_type)
        if self.method_name != expected:
            raise ConfigurationError(
                f"{self.method_name}: handlers of {self.event_type!r} must be named "
                f"{expected!r} so that their queue is the declared one"
            )
        topology = build_topology()
        amqp_uri = self.container.config["AMQP_URI"]
        connection = pika.BlockingConnection(connection_parameters(amqp_uri, "nameko-declare"))
        try:
            declare_sync(connection.channel(), topology)
        finally:
            connection.close()
        apply_policies(Management.from_amqp_uri(amqp_uri), topology, required=True)
        self._queue = topology.consumer_queue(self.container.service_name, self.event_type)
        self._publisher = SyncPublisher(
            amqp_uri, topology=topology, name=f"{self.container.service_name}.retries"
        )
        super().setup()

    def stop(self) -> None:
        super().stop()
        if self._publisher is not None:
            with self._publish_lock:
                self._publisher.close()

    def handle_message(self, body: Any, message: Any) -> None:
        try:
            raw = body if isinstance(body, str | bytes) else _json(body)
            event = route_for(self.event_type).model.from_message(raw)
        except Exception as exc:  # noqa: BLE001 - an unreadable event is parked, not lost
            logger.error("%s: invalid %s event parked: %s", self, self.event_type, exc)
            self._fail(message, InvalidMessage(f"invalid {self.event_type}: {exc}"))
            return
        super().handle_message(event, message)

    def handle_message_processed(
        self, message: Any, result: Any = None, exc_info: Any = None
    ) -> None:
        if exc_info is not None:
            self._fail(message, exc_info[1])
        else:
            self.queue_consumer.ack_message(message)

    def _fail(self, message: Any, error: BaseException) -> None:
        """Send the failed message's copy to the delay queue (or, finally, the dead-letter
        queue) and ack the original once the copy is confirmed; reject it if not."""
        headers = dict(message.headers or {})
        if self._queue is None or self._publisher is None:
            self._reject(message)
            return
        action = on_failure(self._queue, headers, error, self.policy)
        properties = message.properties or {}
        copy = redirected(
            body=message.body if isinstance(message.body, bytes) else str(message.body).encode(),
            exchange=action.exchange,
            routing_key=action.routing_key,
            headers=action.headers,
            message_id=properties.get("message_id"),
            timestamp=_timestamp(properties.get("timestamp")),
            app_id=properties.get("app_id"),
            content_type=message.content_type,
            content_encoding=message.content_encoding,
        )
        try:
            with self._publish_lock:
                self._publisher.publish(copy, expiration_ms=action.expiration_ms)
        except Exception as exc:  # noqa: BLE001 - the broker's policy parks it instead
            logger.error("%s: could not redirect a failed event (%s); rejecting it", self, exc)
            self._reject(message)
            return
        event_id = headers.get("event_id", properties.get("message_id"))
        if action.kind == "retry":
            logger.warning(
                "%s failed on %s (%s); retry %s in %.1fs",
                self.method_name,
                event_id,
                action.headers["x-failure-reason"],
                action.headers["x-retry-count"],
                self.policy.delay_s,
            )
        else:
            logger.error(
                "%s failed on %s; parked in %s: %s",
                self.method_name,
                event_id,
                action.routing_key,
                action.headers["x-failure-reason"],
            )
        self.queue_consumer.ack_message(message)

    def _reject(self, message: Any) -> None:
        if message.channel.connection:
            try:
                message.reject(requeue=False)
            except ConnectionError:  # the broker reclaims it; it will be redelivered
                pass


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return None


def _json(body: Any) -> str:
    import json

    return json.dumps(body)


class BatchEventHandler(Entrypoint):  # type: ignore[misc]
    """A nameko entrypoint that hands its method a list of events, one worker per batch."""

    def __init__(
        self,
        source_service: str,
        event_type: str,
        *,
        max_batch: int = 500,
        max_wait_s: float = 0.05,
        max_retries: int = 3,
        retry_delay_s: float = 1.0,
        **kwargs: Any,
    ) -> None:
        self.source_service = source_service
        self.event_type = event_type
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.policy = RetryPolicy(max_retries, retry_delay_s)
        self.consumer: BatchConsumer | None = None
        self._stop = threading.Event()
        self._thread: Any = None
        super().__init__(**kwargs)

    def setup(self) -> None:
        expected = handler_method(self.event_type)
        if self.method_name != expected:
            raise ConfigurationError(
                f"{self.method_name}: handlers of {self.event_type!r} must be named "
                f"{expected!r} so that their queue is the declared one"
            )
        route = route_for(self.event_type)
        if route.producer != self.source_service:
            raise ConfigurationError(
                f"{self.event_type!r} comes from {route.producer!r}, not {self.source_service!r}"
            )
        topology = build_topology()
        self.consumer = BatchConsumer(
            self.container.config["AMQP_URI"],
            topology.consumer_queue(self.container.service_name, self.event_type),
            self._handle_batch,
            max_batch=self.max_batch,
            max_wait_s=self.max_wait_s,
            policy=self.policy,
            topology=topology,
            name=f"{self.container.service_name}.{self.method_name}",
        )

    def start(self) -> None:
        assert self.consumer is not None
        self._stop.clear()
        consumer = self.consumer
        self._thread = self.container.spawn_managed_thread(
            lambda: consumer.run(self._stop), identifier=f"batch-consumer:{self.method_name}"
        )

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.wait()
            self._thread = None

    def kill(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.kill()
            self._thread = None

    def _handle_batch(self, deliveries: Sequence[Delivery]) -> None:
        """Run the service method in a nameko worker on the batch; raise what it raised."""
        done = threading.Event()
        outcome: dict[str, Any] = {}

        def handle_result(worker_ctx: Any, result: Any, exc_info: Any) -> tuple[Any, Any]:
            outcome["exc_info"] = exc_info
            done.set()
            return result, exc_info

        events = [delivery.event for delivery in deliveries]
        self.container.spawn_worker(self, (events,), {}, handle_result=handle_result)
        done.wait()
        exc_info = outcome.get("exc_info")
        if exc_info is not None:
            raise exc_info[1]


event_handler = DeadLetteringEventHandler.decorator
batch_event_handler = BatchEventHandler.decorator
