"""The synchronous consumer (pika): manual acks after durable work, retries, parking.

The handler gets a validated :class:`~eventbus.wire.Delivery` and must return
only when its work is committed (with the ``event_id`` recorded in the same transaction,
see ``idempotency.py``); only then is the message acked. A handler error sends a copy to
the delay queue (or, after the last retry, to the dead-letter queue with the reason in
headers) on a confirm channel, and the original is acked after that copy is confirmed; if
the copy cannot be confirmed the original stays unacked and comes back after reconnect.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pika

from eventbus.backoff import Backoff
from eventbus.declare import declare_sync
from eventbus.publisher_sync import (
    CONNECTION_ERRORS,
    connection_parameters,
    publish_on,
)
from eventbus.retry import RetryPolicy, on_failure
from eventbus.topology import ConsumerQueue, Topology, build_topology
from eventbus.wire import Delivery, decode, redirected

logger = logging.getLogger(__name__)

SyncHandler = Callable[[Delivery], None]


@dataclass
class ConsumerStats:
    handled: int = 0
    retried: int = 0
    parked: int = 0


class SyncConsumer:
    """Consumes one consumer queue until ``stop`` is set; reconnects with backoff."""

    def __init__(
        self,
        amqp_uri: str,
        queue: ConsumerQueue,
        handler: SyncHandler,
        *,
        policy: RetryPolicy | None = None,
        prefetch: int = 16,
        topology: Topology | None = None,
        name: str | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.amqp_uri = amqp_uri
        self.queue = queue
        self.handler = handler
        self.policy = policy or RetryPolicy()
        self.prefetch = prefetch
        self.topology = topology or build_topology()
        self.name = name or f"{queue.consumer}-consumer"
        self._backoff = backoff or Backoff()
        self.stats = ConsumerStats()
        self.connected = threading.Event()
        self.last_error = "not connected yet"

    def run(self, stop: threading.Event) -> None:
        """Block, consuming, until ``stop`` is set."""
        while not stop.is_set():
            connection: Any = None
            try:
                connection = pika.BlockingConnection(
                    connection_parameters(self.amqp_uri, self.name)
                )
                self._serve(connection, stop)
            except CONNECTION_ERRORS as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                if self.connected.is_set():
                    logger.warning("%s lost the broker: %s", self.name, self.last_error)
                self.connected.clear()
                stop.wait(self._backoff.next_delay())
            finally:
                self.connected.clear()
                if connection is not None and connection.is_open:
                    try:
                        connection.close()
                    except CONNECTION_ERRORS:
                        pass

    def _serve(self, connection: Any, stop: threading.Event) -> None:
        channel = connection.channel()
        declare_sync(channel, self.topology)
        channel.basic_qos(prefetch_count=self.prefetch)
        confirm = connection.channel()
        confirm.confirm_delivery()
        self.connected.set()
        self._backoff.reset()
        logger.info("%s consuming %s", self.name, self.queue.name)
        for method, properties, body in channel.consume(self.queue.name, inactivity_timeout=0.5):
            if stop.is_set():
                break
            if method is None:
                continue
            self._process(channel, confirm, method, properties, body)
        channel.cancel()

    def _process(self, channel: Any, confirm: Any, method: Any, props: Any, body: bytes) -> None:
        headers = dict(props.headers or {})
        try:
            delivery = self._decode(method, props, body)
            self.handler(delivery)
            self.stats.handled += 1
        except CONNECTION_ERRORS:
            raise
        except Exception as exc:  # noqa: BLE001 - any handler failure decides the message's fate
            self._redirect(confirm, props, body, headers, exc)
        channel.basic_ack(method.delivery_tag)

    def _decode(self, method: Any, props: Any, body: bytes) -> Delivery:
        return decode(
            self.queue.route,
            body,
            content_type=props.content_type,
            headers=dict(props.headers or {}),
            redelivered=bool(method.redelivered),
        )

    def _redirect(
        self, confirm: Any, props: Any, body: bytes, headers: dict[str, Any], exc: Exception
    ) -> None:
        """Send a failed message's copy to its delay queue or, finally, to its dead-letter
        queue, and wait for the broker's confirm (the caller acks the original after)."""
        action = on_failure(self.queue, headers, exc, self.policy)
        copy = redirected(
            body=body,
            exchange=action.exchange,
            routing_key=action.routing_key,
            headers=action.headers,
            message_id=props.message_id,
            timestamp=datetime.fromtimestamp(props.timestamp, UTC) if props.timestamp else None,
            app_id=props.app_id,
            content_type=props.content_type,
            content_encoding=props.content_encoding,
        )
        publish_on(confirm, copy, action.expiration_ms)
        if action.kind == "retry":
            self.stats.retried += 1
            logger.warning(
                "%s: %s failed (%s); retry %s in %.1fs",
                self.name,
                headers.get("event_id", props.message_id),
                action.headers["x-failure-reason"],
                action.headers["x-retry-count"],
                self.policy.delay_s,
            )
        else:
            self.stats.parked += 1
            logger.error(
                "%s: %s parked in %s: %s",
                self.name,
                headers.get("event_id", props.message_id),
                action.routing_key,
                action.headers["x-failure-reason"],
            )


def run_in_thread(consumer: SyncConsumer) -> tuple[threading.Thread, threading.Event]:
    """Start ``consumer`` on a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), name=consumer.name, daemon=True)
    thread.start()
    return thread, stop


def wait_connected(consumer: SyncConsumer, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if consumer.connected.wait(0.05):
            return True
    return False
