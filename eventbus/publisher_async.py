"""The asyncio publisher (aio-pika): confirmed, mandatory, pipelined, self-reconnecting.

``publish_many`` puts every message on the wire before awaiting any confirm, so a batch
costs about one broker round trip instead of one per message. A message counts as
published only when the broker acked it: a nack, a return (unroutable, with
``mandatory=True`` and ``on_return_raises=True``), a timeout or a lost connection is a
:class:`PublishFailed` for that message, and the caller keeps it (the outbox keeps the
row) for the next attempt. A supervisor task keeps the connection up with backoff; a
publish never waits for a reconnect, it fails fast with :class:`BrokerUnavailable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange
from aiormq.exceptions import AMQPError, ChannelInvalidStateError

from eventbus.backoff import Backoff
from eventbus.declare import declare_async
from eventbus.topology import Topology, build_topology
from eventbus.wire import OutgoingMessage

logger = logging.getLogger(__name__)


class PublishFailed(RuntimeError):
    """The broker did not confirm a message; it must be treated as not published."""


class BrokerUnavailable(PublishFailed):
    """No broker connection right now (the supervisor is reconnecting)."""


def to_amqp(message: OutgoingMessage, *, expiration_s: float | None = None) -> aio_pika.Message:
    """The aio-pika message with every property of the wire convention."""
    return aio_pika.Message(
        message.body,
        headers=dict(message.headers),
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=aio_pika.DeliveryMode(message.delivery_mode),
        message_id=message.message_id,
        timestamp=message.timestamp,
        type=message.routing_key,
        app_id=message.app_id,
        expiration=expiration_s,
    )


class AsyncPublisher:
    """One connection, one confirm channel; declares the topology on every (re)connect."""

    def __init__(
        self,
        amqp_uri: str,
        *,
        topology: Topology | None = None,
        connect_timeout_s: float = 3.0,
        confirm_timeout_s: float = 10.0,
        backoff: Backoff | None = None,
        name: str = "publisher",
    ) -> None:
        self.amqp_uri = amqp_uri
        self.topology = topology or build_topology()
        self.connect_timeout_s = connect_timeout_s
        self.confirm_timeout_s = confirm_timeout_s
        self._backoff = backoff or Backoff()
        self._name = name
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchanges: dict[str, AbstractExchange] = {}
        self._lost = asyncio.Event()
        self._connected = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self.down_since: float | None = time.monotonic()
        self.last_error: str = "not connected yet"
        self.connects = 0

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the supervisor (returns at once; use ``wait_connected`` to wait)."""
        if self._supervisor is None:
            self._supervisor = asyncio.create_task(self._supervise(), name=f"{self._name}-amqp")

    async def wait_connected(self, timeout_s: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout_s)
        return self.connected

    @property
    def connected(self) -> bool:
        return (
            self._connected.is_set()
            and self._connection is not None
            and not self._connection.is_closed
        )

    def down_for_s(self) -> float:
        """How long the broker has been unreachable (0 while connected)."""
        return 0.0 if self.down_since is None else time.monotonic() - self.down_since

    async def close(self) -> None:
        self._closing = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        await self._drop()

    async def __aenter__(self) -> AsyncPublisher:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- connection -----------------------------------------------------------------------
    async def _connect(self) -> None:
        connection = await aio_pika.connect(
            self.amqp_uri,
            timeout=self.connect_timeout_s,
            client_properties={"connection_name": self._name},
        )
        try:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            exchanges = await declare_async(channel, self.topology)
        except BaseException:
            await connection.close()
            raise
        connection.close_callbacks.add(self._on_close)
        self._connection, self._channel, self._exchanges = connection, channel, exchanges
        self._lost.clear()
        self._connected.set()
        self.down_since = None
        self.connects += 1
        logger.info("%s connected to the broker (connection #%d)", self._name, self.connects)

    def _on_close(self, _sender: Any, exc: BaseException | None = None) -> None:
        self._mark_lost(f"connection closed: {exc!r}")

    def _mark_lost(self, reason: str) -> None:
        if self._connected.is_set():
            logger.warning("%s lost the broker: %s", self._name, reason)
        self._connected.clear()
        if self.down_since is None:
            self.down_since = time.monotonic()
        self.last_error = reason
        self._lost.set()

    async def _drop(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        self._exchanges = {}
        self._connected.clear()
        if connection is not None and not connection.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 2.0)

    async def _supervise(self) -> None:
        while not self._closing:
            try:
                await self._connect()
                self._backoff.reset()
                await self._lost.wait()
                await self._drop()
            except asyncio.CancelledError:
                raise
            except (AMQPError, OSError, TimeoutError, ChannelInvalidStateError) as exc:
                self._mark_lost(f"{type(exc).__name__}: {exc}")
                await self._drop()
                await asyncio.sleep(self._backoff.next_delay())

    def reconnect_soon(self, reason: str) -> None:
        """Tell the supervisor that the connection is unusable (after a publish failure)."""
        self._mark_lost(reason)

    # -- publishing -----------------------------------------------------------------------
    async def publish(self, message: OutgoingMessage, *, expiration_s: float | None = None) -> None:
        """Publish one message and wait for its confirm, or raise :class:`PublishFailed`."""
        (result,) = await self.publish_many([message], expiration_s=expiration_s)
        if result is not None:
            raise result

    async def publish_many(
        self, messages: Sequence[OutgoingMessage], *, expiration_s: float | None = None
    ) -> list[PublishFailed | None]:
        """Publish all, pipelined; one outcome per message (``None`` = confirmed)."""
        if not messages:
            return []
        if not self.connected or self._channel is None:
            error = BrokerUnavailable(f"broker unavailable: {self.last_error}")
            return [error] * len(messages)
        channel = self._channel
        tasks = [
            asyncio.ensure_future(self._publish_one(channel, m, expiration_s)) for m in messages
        ]
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        results: list[PublishFailed | None] = []
        for outcome in outcomes:
            if outcome is None:
                results.append(None)
            elif isinstance(outcome, PublishFailed):
                results.append(outcome)
            elif isinstance(outcome, BaseException):
                results.append(PublishFailed(f"{type(outcome).__name__}: {outcome}"))
            else:
                results.append(None)
        return results

    async def _publish_one(
        self, channel: AbstractChannel, message: OutgoingMessage, expiration_s: float | None
    ) -> None:
        try:
            if message.exchange == "":
                exchange = channel.default_exchange
            else:
                exchange = self._exchanges.get(message.exchange) or await channel.get_exchange(
                    message.exchange
                )
            await exchange.publish(
                to_amqp(message, expiration_s=expiration_s),
                routing_key=message.routing_key,
                mandatory=True,
                timeout=self.confirm_timeout_s,
            )
        except aio_pika.exceptions.PublishError as exc:
            raise PublishFailed(f"unroutable: {message.exchange}/{message.routing_key}") from exc
        except aio_pika.exceptions.DeliveryError as exc:
            raise PublishFailed(f"nacked by the broker: {exc}") from exc
        except TimeoutError as exc:
            self.reconnect_soon("confirm timed out")
            raise PublishFailed("no confirm within the timeout") from exc
        except (AMQPError, OSError, ChannelInvalidStateError, RuntimeError) as exc:
            self.reconnect_soon(f"{type(exc).__name__}: {exc}")
            raise PublishFailed(f"{type(exc).__name__}: {exc}") from exc
