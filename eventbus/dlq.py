"""Inspecting and replaying parked messages (``kit events dlq list|replay``).

Listing browses without consuming: messages are fetched unacked and the channel is closed,
which returns them to the queue. Replay sends a parked message back to its consumer queue
(body and properties unchanged, retry count reset, replay counted) with a confirm, and
only then removes it from the dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pika
import pika.exceptions

from eventbus.publisher_sync import connection_parameters, publish_on
from eventbus.retry import (
    H_FAILED_AT,
    H_FAILURE_REASON,
    H_RETRY_COUNT,
    replay_headers,
)
from eventbus.topology import ConsumerQueue, Topology, build_topology
from eventbus.wire import H_EVENT_ID, H_EVENT_TYPE, redirected


@dataclass(frozen=True)
class ParkedMessage:
    """One message in a dead-letter queue, as an operator sees it."""

    queue: str
    event_id: str
    event_type: str
    reason: str
    retries: int
    failed_at: str
    body_bytes: int
    headers: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "reason": self.reason,
            "retries": self.retries,
            "failed_at": self.failed_at,
            "body_bytes": self.body_bytes,
        }


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    dead_letter_queue: str
    parked: int


def _parked(cq: ConsumerQueue, props: Any, body: bytes) -> ParkedMessage:
    headers = dict(props.headers or {})
    reason = headers.get(H_FAILURE_REASON)
    if reason is None and headers.get("x-death"):  # rejected by a nameko worker (policy)
        reason = f"rejected by {cq.consumer} (dead-lettered by policy)"
    return ParkedMessage(
        queue=cq.dead_letter_queue,
        event_id=str(headers.get(H_EVENT_ID, props.message_id or "")),
        event_type=str(headers.get(H_EVENT_TYPE, cq.event_type)),
        reason=str(reason or "unknown"),
        retries=int(headers.get(H_RETRY_COUNT, 0) or 0),
        failed_at=str(headers.get(H_FAILED_AT, "")),
        body_bytes=len(body),
        headers=headers,
    )


def _select(topology: Topology, queue: str | None) -> list[ConsumerQueue]:
    if queue is None:
        return list(topology.consumer_queues)
    if ":" in queue:  # consumer:event_type
        consumer, event_type = queue.split(":", 1)
        return [topology.consumer_queue(consumer, event_type)]
    return [topology.by_queue_name(queue)]


def depths(amqp_uri: str, *, topology: Topology | None = None) -> list[QueueDepth]:
    """Parked message count of every dead-letter queue in the topology."""
    topology = topology or build_topology()
    connection = pika.BlockingConnection(connection_parameters(amqp_uri, "kit-dlq"))
    try:
        out = []
        for cq in topology.consumer_queues:
            channel = connection.channel()
            try:
                frame = channel.queue_declare(cq.dead_letter_queue, passive=True)
                parked = int(frame.method.message_count)
                channel.close()
            except pika.exceptions.ChannelClosedByBroker as exc:
                if exc.reply_code != 404:
                    raise
                parked = 0  # never declared on this broker: nothing parked
            out.append(QueueDepth(cq.name, cq.dead_letter_queue, parked))
        return out
    finally:
        connection.close()


def list_parked(
    amqp_uri: str, queue: str | None = None, *, limit: int = 100, topology: Topology | None = None
) -> list[ParkedMessage]:
    """Browse up to ``limit`` parked messages (of one queue, or all); nothing is removed."""
    topology = topology or build_topology()
    connection = pika.BlockingConnection(connection_parameters(amqp_uri, "kit-dlq"))
    out: list[ParkedMessage] = []
    try:
        for cq in _select(topology, queue):
            channel = connection.channel()
            try:
                while len(out) < limit:
                    method, props, body = channel.basic_get(cq.dead_letter_queue, auto_ack=False)
                    if method is None:
                        break
                    out.append(_parked(cq, props, body))
                channel.close()  # unacked messages go back to the queue
            except pika.exceptions.ChannelClosedByBroker as exc:
                if exc.reply_code != 404:
                    raise
    finally:
        connection.close()
    return out


def replay(
    amqp_uri: str,
    queue: str,
    *,
    event_ids: Iterable[str] | None = None,
    limit: int | None = None,
    topology: Topology | None = None,
) -> list[ParkedMessage]:
    """Send parked messages of one consumer queue back to it; return what was replayed.

    With ``event_ids``, only those; others are left parked, in place.
    """
    topology = topology or build_topology()
    (cq,) = _select(topology, queue)
    wanted = set(event_ids) if event_ids is not None else None
    connection = pika.BlockingConnection(connection_parameters(amqp_uri, "kit-dlq-replay"))
    replayed: list[ParkedMessage] = []
    try:
        channel = connection.channel()
        confirm = connection.channel()
        confirm.confirm_delivery()
        total = channel.queue_declare(cq.dead_letter_queue, passive=True).method.message_count
        for _ in range(total):
            if limit is not None and len(replayed) >= limit:
                break
            method, props, body = channel.basic_get(cq.dead_letter_queue, auto_ack=False)
            if method is None:
                break
            parked = _parked(cq, props, body)
            if wanted is not None and parked.event_id not in wanted:
                continue  # stays unacked until the channel closes, then back in the queue
            copy = redirected(
                body=body,
                exchange="",
                routing_key=cq.name,
                headers=replay_headers(props.headers),
                message_id=props.message_id,
                timestamp=datetime.fromtimestamp(props.timestamp, UTC) if props.timestamp else None,
                app_id=props.app_id,
                content_type=props.content_type,
                content_encoding=props.content_encoding,
            )
            publish_on(confirm, copy)
            channel.basic_ack(method.delivery_tag)
            replayed.append(parked)
    finally:
        connection.close()
    return replayed
