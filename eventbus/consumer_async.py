"""The asyncio consumer (aio-pika): the same rules as ``consumer_sync`` in an event loop.

Manual ack only after the handler returned (its work committed, ``event_id`` recorded);
on failure a copy goes to the delay queue or, after the last retry, to the dead-letter
queue with the reason in headers, on a confirm channel, and the original is acked only
once that copy is confirmed. A supervisor task reconnects with backoff.

An instance queue (``ConsumerQueue.instance`` set: a broadcast consumer) is declared by
the consumer itself when it connects; ``on_connected`` runs after every connect, so an
instance can catch up with what it may have missed while it was away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from aiormq.exceptions import AMQPError, ChannelInvalidStateError

from eventbus.backoff import Backoff
from eventbus.consumer_sync import ConsumerStats
from eventbus.declare import declare_async, declare_instance_async
from eventbus.publisher_async import to_amqp
from eventbus.retry import RetryPolicy, on_failure
from eventbus.topology import ConsumerQueue, Topology, build_topology
from eventbus.wire import Delivery, decode, redirected

logger = logging.getLogger(__name__)

AsyncHandler = Callable[[Delivery], Awaitable[None]]


class AsyncConsumer:
    """Consumes one consumer queue in the running event loop."""

    def __init__(
        self,
        amqp_uri: str,
        queue: ConsumerQueue,
        handler: AsyncHandler,
        *,
        policy: RetryPolicy | None = None,
        prefetch: int = 16,
        topology: Topology | None = None,
        name: str | None = None,
        backoff: Backoff | None = None,
        confirm_timeout_s: float = 10.0,
        on_connected: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self.amqp_uri = amqp_uri
        self.queue = queue
        self.handler = handler
        self.policy = policy or RetryPolicy()
        self.prefetch = prefetch
        self.topology = topology or build_topology()
        self.name = name or f"{queue.consumer}-consumer"
        self.confirm_timeout_s = confirm_timeout_s
        self._backoff = backoff or Backoff()
        self.stats = ConsumerStats()
        self.last_error = "not connected yet"
        self._connection: AbstractConnection | None = None
        self._confirm: AbstractChannel | None = None
        self._lost = asyncio.Event()
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._on_connected = on_connected
        self.connects = 0

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._supervise(), name=self.name)

    async def wait_connected(self, timeout_s: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout_s)
        return self.connected

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._drop()

    def _hook_done(self, task: asyncio.Future[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s: on_connected failed: %r", self.name, task.exception())

    async def _drop(self) -> None:
        connection, self._connection, self._confirm = self._connection, None, None
        self._connected.clear()
        if connection is not None and not connection.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 2.0)

    def _on_close(self, _sender: Any, exc: BaseException | None = None) -> None:
        self.last_error = f"connection closed: {exc!r}"
        self._connected.clear()
        self._lost.set()

    async def _supervise(self) -> None:
        while True:
            try:
                connection = await aio_pika.connect(
                    self.amqp_uri, timeout=3.0, client_properties={"connection_name": self.name}
                )
                self._connection = connection
                connection.close_callbacks.add(self._on_close)
                channel = await connection.channel(publisher_confirms=False)
                exchanges = await declare_async(channel, self.topology)
                if self.queue.instance is not None:
                    await declare_instance_async(channel, self.queue, exchanges)
                await channel.set_qos(prefetch_count=self.prefetch)
                self._confirm = await connection.channel(
                    publisher_confirms=True, on_return_raises=True
                )
                queue = await channel.declare_queue(self.queue.name, passive=True)
                self._lost.clear()
                await queue.consume(self._on_message, no_ack=False)
                self._connected.set()
                self._backoff.reset()
                self.connects += 1
                logger.info("%s consuming %s", self.name, self.queue.name)
                if self._on_connected is not None:
                    hook = asyncio.ensure_future(self._on_connected(self.connects))
                    hook.add_done_callback(self._hook_done)
                await self._lost.wait()
                logger.warning("%s lost the broker: %s", self.name, self.last_error)
            except asyncio.CancelledError:
                raise
            except (AMQPError, OSError, TimeoutError, ChannelInvalidStateError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
            await self._drop()
            await asyncio.sleep(self._backoff.next_delay())

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        headers = dict(message.headers or {})
        try:
            delivery = decode(
                self.queue.route,
                message.body,
                content_type=message.content_type,
                headers=headers,
                redelivered=bool(message.redelivered),
            )
            await self.handler(delivery)
            self.stats.handled += 1
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any handler failure decides the message's fate
            if not await self._redirect(message, headers, exc):
                return  # left unacked: redelivered after the reconnect
        await message.ack()

    async def _redirect(
        self, message: AbstractIncomingMessage, headers: dict[str, Any], exc: Exception
    ) -> bool:
        action = on_failure(self.queue, headers, exc, self.policy)
        copy = redirected(
            body=message.body,
            exchange=action.exchange,
            routing_key=action.routing_key,
            headers=action.headers,
            message_id=message.message_id,
            timestamp=message.timestamp,
            app_id=message.app_id,
            content_type=message.content_type,
            content_encoding=message.content_encoding,
        )
        confirm = self._confirm
        if confirm is None:
            return False
        expiration = action.expiration_ms / 1000 if action.expiration_ms is not None else None
        try:
            exchange = (
                confirm.default_exchange
                if copy.exchange == ""
                else await confirm.get_exchange(copy.exchange)
            )
            await exchange.publish(
                to_amqp(copy, expiration_s=expiration),
                routing_key=copy.routing_key,
                mandatory=True,
                timeout=self.confirm_timeout_s,
            )
        except (AMQPError, OSError, TimeoutError, RuntimeError) as publish_error:
            logger.error("%s: could not redirect a failed message: %s", self.name, publish_error)
            self._on_close(None, publish_error)
            return False
        if action.kind == "retry":
            self.stats.retried += 1
        else:
            self.stats.parked += 1
            logger.error(
                "%s: %s parked in %s: %s",
                self.name,
                headers.get("event_id", message.message_id),
                action.routing_key,
                action.headers["x-failure-reason"],
            )
        return True
