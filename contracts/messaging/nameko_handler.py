"""The nameko side of the convention: import this module only from nameko workers.

nameko's ``EventHandler`` acks a message whose handler raised, and the event is lost.
:class:`DeadLetteringEventHandler` instead validates the body against the event table's
model (the method receives the typed event), rejects a failed message without requeue,
and at start-up declares this layer's topology and applies the dead-letter policies, so a
rejected message lands in ``<queue>.dlq`` where ``kit events dlq`` sees and replays it.

This module imports nameko (and so eventlet): nothing outside a nameko worker may import
it, which is why it is not re-exported from ``contracts.messaging``.
"""

from __future__ import annotations

import logging
from typing import Any

import pika
from nameko.events import EventHandler
from nameko.exceptions import ConfigurationError

from contracts.events.catalog import route_for
from contracts.messaging.declare import apply_policies, declare_sync
from contracts.messaging.management import Management
from contracts.messaging.publisher_sync import connection_parameters
from contracts.messaging.topology import build_topology, handler_method

logger = logging.getLogger(__name__)


class DeadLetteringEventHandler(EventHandler):  # type: ignore[misc]
    """A nameko ``EventHandler`` that never loses a failed event."""

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
        super().setup()

    def handle_message(self, body: Any, message: Any) -> None:
        try:
            raw = body if isinstance(body, str | bytes) else _json(body)
            event = route_for(self.event_type).model.from_message(raw)
        except Exception as exc:  # noqa: BLE001 - an unreadable event is parked, not lost
            logger.error("%s: invalid %s event parked: %s", self, self.event_type, exc)
            self._reject(message)
            return
        super().handle_message(event, message)

    def handle_message_processed(
        self, message: Any, result: Any = None, exc_info: Any = None
    ) -> None:
        if exc_info is not None:
            logger.error(
                "%s failed on %s; dead-lettering it",
                self.method_name,
                (message.headers or {}).get("event_id"),
                exc_info=exc_info,
            )
            self._reject(message)
        else:
            self.queue_consumer.ack_message(message)

    def _reject(self, message: Any) -> None:
        if message.channel.connection:
            try:
                message.reject(requeue=False)
            except ConnectionError:  # the broker reclaims it; it will be redelivered
                pass


def _json(body: Any) -> str:
    import json

    return json.dumps(body)


event_handler = DeadLetteringEventHandler.decorator
