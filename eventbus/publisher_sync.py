"""The synchronous publisher (pika ``BlockingConnection``) for code without an event loop.

pika's blocking channel in confirm mode waits for each message's confirm before
``basic_publish`` returns, so this publisher is one round trip per message: right for
consumers republishing a failed message, DLQ replay and scripts, not for a hot path (the
services publish through ``publisher_async`` and the outbox relay).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pika
import pika.exceptions

from eventbus.backoff import Backoff
from eventbus.declare import declare_sync
from eventbus.publisher_async import PublishFailed
from eventbus.topology import Topology, build_topology
from eventbus.wire import OutgoingMessage

logger = logging.getLogger(__name__)

#: Errors after which the connection is unusable and must be reopened.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    pika.exceptions.AMQPConnectionError,
    pika.exceptions.AMQPChannelError,
    pika.exceptions.StreamLostError,
    OSError,
)


def connection_parameters(amqp_uri: str, name: str, timeout_s: float = 3.0) -> Any:
    """pika parameters from a URI, with bounded timeouts so nothing hangs."""
    params = pika.URLParameters(amqp_uri)
    params.socket_timeout = timeout_s
    params.blocked_connection_timeout = 30
    params.connection_attempts = 1
    params.heartbeat = 30
    params.client_properties = {"connection_name": name}
    return params


def to_properties(message: OutgoingMessage, expiration_ms: int | None = None) -> Any:
    return pika.BasicProperties(
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=message.delivery_mode,
        headers=dict(message.headers),
        message_id=message.message_id,
        timestamp=int(message.timestamp.timestamp()),
        type=message.routing_key,
        app_id=message.app_id,
        expiration=str(expiration_ms) if expiration_ms is not None else None,
    )


def publish_on(channel: Any, message: OutgoingMessage, expiration_ms: int | None = None) -> None:
    """One confirmed, mandatory publish on a confirm-mode pika channel."""
    try:
        channel.basic_publish(
            message.exchange,
            message.routing_key,
            message.body,
            properties=to_properties(message, expiration_ms),
            mandatory=True,
        )
    except pika.exceptions.UnroutableError as exc:
        raise PublishFailed(f"unroutable: {message.exchange}/{message.routing_key}") from exc
    except pika.exceptions.NackError as exc:
        raise PublishFailed("nacked by the broker") from exc


class SyncPublisher:
    """A confirmed publisher that reconnects (with backoff, bounded) on a lost connection."""

    def __init__(
        self,
        amqp_uri: str,
        *,
        topology: Topology | None = None,
        name: str = "sync-publisher",
        max_attempts: int = 5,
        backoff: Backoff | None = None,
    ) -> None:
        self.amqp_uri = amqp_uri
        self.topology = topology or build_topology()
        self.name = name
        self.max_attempts = max_attempts
        self._backoff = backoff or Backoff()
        self._connection: Any = None
        self._channel: Any = None

    def _ensure(self) -> Any:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self.close()
        self._connection = pika.BlockingConnection(connection_parameters(self.amqp_uri, self.name))
        channel = self._connection.channel()
        channel.confirm_delivery()
        declare_sync(channel, self.topology)
        self._channel = channel
        return channel

    def publish(self, message: OutgoingMessage, *, expiration_ms: int | None = None) -> None:
        """Publish and wait for the confirm; reconnect and retry on a lost connection.

        A retry after a lost connection may duplicate the message (its confirm may have
        been lost in flight): consumers are idempotent on ``event_id``.
        """
        last: BaseException | None = None
        for _attempt in range(self.max_attempts):
            try:
                publish_on(self._ensure(), message, expiration_ms)
                self._backoff.reset()
                return
            except CONNECTION_ERRORS as exc:
                last = exc
                logger.warning("%s: publish failed (%s); reconnecting", self.name, exc)
                self.close()
                time.sleep(self._backoff.next_delay())
        raise PublishFailed(f"not confirmed after {self.max_attempts} attempts: {last}")

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except CONNECTION_ERRORS:
                pass

    def __enter__(self) -> SyncPublisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
