"""The batch consumer (pika): many deliveries, one handler call, one commit, one ack.

Why: a consumer that commits and acks one message at a time pays a database transaction,
an ack frame and (under nameko) a worker spawn per event; at a few hundred events a second
that costs as much CPU as the service that produced them. This consumer takes up to
``max_batch`` messages (prefetch covers two batches, so the next is already in flight),
waiting at most ``max_wait_s`` after the first, and hands every valid delivery of the
batch to the handler at once. The handler stores them in one transaction (recording the
event ids there, so a redelivered batch changes nothing) and returns; then one
``basic_ack(multiple=True)`` acknowledges the whole batch.

The rules of ``consumer_sync`` hold per message: an invalid message is parked at once;
when the handler fails on a batch, the batch is replayed one delivery at a time, so only
the message that really fails goes to its delay queue (and, after the last retry, to its
dead-letter queue), each copy confirmed before the batch is acked. Nothing is acked before
it is stored or redirected; a crash redelivers the unacked rest.

Runs in a plain thread, or in a green thread inside a nameko worker (pika's blocking
connection waits in ``select``, which eventlet patches); long batches yield between
decodes so the worker's HTTP side keeps answering.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eventbus.backoff import Backoff
from eventbus.consumer_sync import SyncConsumer
from eventbus.declare import declare_sync
from eventbus.publisher_sync import CONNECTION_ERRORS
from eventbus.retry import RetryPolicy
from eventbus.topology import ConsumerQueue, Topology
from eventbus.wire import Delivery

logger = logging.getLogger(__name__)

#: Stores a batch of deliveries in one transaction; returns only when it is committed.
BatchHandler = Callable[[Sequence[Delivery]], None]

_YIELD_EVERY = 64


@dataclass(frozen=True)
class _Received:
    method: Any
    properties: Any
    body: bytes


class BatchConsumer(SyncConsumer):
    """Consumes one consumer queue in batches until ``stop`` is set; reconnects with backoff."""

    def __init__(
        self,
        amqp_uri: str,
        queue: ConsumerQueue,
        handler: BatchHandler,
        *,
        max_batch: int = 500,
        max_wait_s: float = 0.05,
        policy: RetryPolicy | None = None,
        topology: Topology | None = None,
        name: str | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        if max_batch < 1 or max_wait_s <= 0:
            raise ValueError("max_batch must be >= 1 and max_wait_s > 0")
        super().__init__(
            amqp_uri,
            queue,
            lambda delivery: handler([delivery]),
            policy=policy,
            prefetch=2 * max_batch,
            topology=topology,
            name=name,
            backoff=backoff,
        )
        self.batch_handler = handler
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.batches = 0

    def _serve(self, connection: Any, stop: Any) -> None:
        channel = connection.channel()
        declare_sync(channel, self.topology)
        channel.basic_qos(prefetch_count=self.prefetch)
        confirm = connection.channel()
        confirm.confirm_delivery()
        self.connected.set()
        self._backoff.reset()
        logger.info("%s consuming %s in batches of up to %d", self.name, self.queue.name,
                    self.max_batch)  # fmt: skip
        pending: list[_Received] = []
        first_at = 0.0
        messages = channel.consume(self.queue.name, inactivity_timeout=self.max_wait_s)
        for method, properties, body in messages:
            if method is not None:
                if not pending:
                    first_at = time.monotonic()
                pending.append(_Received(method, properties, body))
            due = pending and (
                method is None
                or len(pending) >= self.max_batch
                or time.monotonic() - first_at >= self.max_wait_s
            )
            if due:
                self._process_batch(channel, confirm, pending)
                pending = []
            if stop.is_set():
                break
        # Whatever is still pending was never acked: the broker redelivers it.
        channel.cancel()

    def _process_batch(self, channel: Any, confirm: Any, batch: list[_Received]) -> None:
        valid: list[tuple[_Received, Delivery]] = []
        for index, item in enumerate(batch):
            if index and index % _YIELD_EVERY == 0:
                time.sleep(0)  # a green thread lets the rest of its worker run
            try:
                valid.append((item, self._decode(item.method, item.properties, item.body)))
            except CONNECTION_ERRORS:
                raise
            except Exception as exc:  # noqa: BLE001 - an unreadable message is parked
                self._redirect(confirm, item.properties, item.body, _headers(item), exc)
        if valid:
            try:
                self.batch_handler([delivery for _, delivery in valid])
                self.stats.handled += len(valid)
            except CONNECTION_ERRORS:
                raise
            except Exception as exc:  # noqa: BLE001 - find the message that fails, alone
                logger.warning(
                    "%s: a batch of %d failed (%s: %s); handling it one by one",
                    self.name,
                    len(valid),
                    type(exc).__name__,
                    exc,
                )
                self._one_by_one(confirm, valid)
        self.batches += 1
        channel.basic_ack(batch[-1].method.delivery_tag, multiple=True)

    def _one_by_one(self, confirm: Any, valid: list[tuple[_Received, Delivery]]) -> None:
        for item, delivery in valid:
            try:
                self.batch_handler([delivery])
                self.stats.handled += 1
            except CONNECTION_ERRORS:
                raise
            except Exception as exc:  # noqa: BLE001 - this one decides its own fate
                self._redirect(confirm, item.properties, item.body, _headers(item), exc)


def _headers(item: _Received) -> dict[str, Any]:
    return dict(item.properties.headers or {})
