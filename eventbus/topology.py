"""The broker topology as data, derived from the event table (``contracts.events.EVENTS``).

Per event: the producer's exchange ``<producer>.events`` (topic, durable, no arguments:
exactly nameko's declaration). Per (consumer, event): the consumer's durable queue named the
nameko way, ``evt-<producer>-<event>--<consumer>.handle_<event>``, declared without
arguments (a nameko worker declares the same queue; different arguments would be a 406),
plus two queues only this layer declares:

- ``<queue>.retry``: a delay queue. A failed message is copied here with a per-message
  expiration; when it expires the broker dead-letters it back to ``<queue>`` through the
  default exchange.
- ``<queue>.dlq``: the parking lot. A message that failed its last retry is published here
  with the failure reason in its headers; ``kit events dlq list|replay`` works on it.

A broker policy (not a queue argument, for the nameko reason above) dead-letters anything
*rejected* from ``<queue>`` into ``<queue>.dlq`` through :data:`DEAD_LETTER_EXCHANGE`;
nameko workers rely on it, this layer's own consumers never need it.

A consumer the event table names in ``broadcast_to`` (every inference replica must swap to
a promoted model) consumes, per instance, ``<queue>@<instance>`` and its own delay queue,
declared by that instance when it connects and deleted by the broker an hour after the
instance is gone (``x-expires``); it parks into the shared ``<queue>.dlq``. The shared
``<queue>`` stays bound, nobody consumes it: it keeps the event routable (publishers use
``mandatory``) when no instance runs, and holds the last :data:`RECORD_LENGTH` events as a
record (a ``max-length`` policy drops the oldest).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts.events.catalog import EVENTS, EXCHANGE_TYPE, EventRoute

#: Direct exchange that routes parked messages to ``<queue>.dlq`` (routing key = DLQ name).
DEAD_LETTER_EXCHANGE = "events.dlx"
RETRY_SUFFIX = ".retry"
DLQ_SUFFIX = ".dlq"
INSTANCE_SEPARATOR = "@"
POLICY_PRIORITY = 10
#: An instance's own queues vanish this long after their last consumer went away.
INSTANCE_QUEUE_EXPIRES_MS = 3_600_000
#: Events a broadcast consumer's shared record queue keeps.
RECORD_LENGTH = 100


def handler_method(event_type: str) -> str:
    """The consuming method's name, fixed by convention so queue names follow from data.

    A nameko worker must name its handler this way (``def handle_transactions_ingested``)
    for its queue to be the one declared here.
    """
    return f"handle_{event_type}"


@dataclass(frozen=True)
class ExchangeSpec:
    name: str
    type: str = EXCHANGE_TYPE
    durable: bool = True


@dataclass(frozen=True)
class QueueSpec:
    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    durable: bool = True


@dataclass(frozen=True)
class BindingSpec:
    queue: str
    exchange: str
    routing_key: str


@dataclass(frozen=True)
class PolicySpec:
    """A broker policy (``PUT /api/policies/<vhost>/<name>`` on the management API)."""

    name: str
    pattern: str
    definition: Mapping[str, Any]
    apply_to: str = "queues"
    priority: int = POLICY_PRIORITY


@dataclass(frozen=True)
class ConsumerQueue:
    """Everything one consumer of one event type reads from and parks into.

    ``instance`` set: the queues of one instance of a ``broadcast_to`` consumer (see the
    module docstring); unset: the consumer's shared queues.
    """

    consumer: str
    route: EventRoute
    instance: str | None = None

    def __post_init__(self) -> None:
        if self.instance is not None and not self.per_instance:
            raise ValueError(f"{self.consumer!r} is not a broadcast consumer of {self.event_type}")
        if self.instance is not None and not re.fullmatch(r"[A-Za-z0-9_.:-]{1,100}", self.instance):
            raise ValueError(f"instance id {self.instance!r}: letters, digits, _.:- only")

    @property
    def event_type(self) -> str:
        return self.route.event_type

    @property
    def per_instance(self) -> bool:
        """Whether each instance of this consumer reads a queue of its own."""
        return self.consumer in self.route.broadcast_to

    @property
    def shared_name(self) -> str:
        """The consumer's shared queue, exactly as nameko names a handler's queue."""
        return self.route.queue_name(self.consumer, handler_method(self.event_type))

    @property
    def name(self) -> str:
        """The queue this consumer (instance) reads."""
        if self.instance is None:
            return self.shared_name
        return f"{self.shared_name}{INSTANCE_SEPARATOR}{self.instance}"

    @property
    def retry_queue(self) -> str:
        return self.name + RETRY_SUFFIX

    @property
    def dead_letter_queue(self) -> str:
        """One dead-letter queue per consumer, whichever instance parked the message."""
        return self.shared_name + DLQ_SUFFIX

    def for_instance(self, instance: str) -> ConsumerQueue:
        return ConsumerQueue(self.consumer, self.route, instance)

    def queues(self) -> tuple[QueueSpec, ...]:
        if self.instance is not None:
            expires = {"x-expires": INSTANCE_QUEUE_EXPIRES_MS}
            return (
                QueueSpec(self.name, expires),
                QueueSpec(
                    self.retry_queue,
                    {
                        "x-dead-letter-exchange": "",
                        "x-dead-letter-routing-key": self.name,
                        **expires,
                    },
                ),
            )
        retry = (
            ()
            if self.per_instance
            else (
                QueueSpec(
                    self.retry_queue,
                    {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": self.name},
                ),
            )
        )
        return (QueueSpec(self.name), *retry, QueueSpec(self.dead_letter_queue))

    def bindings(self) -> tuple[BindingSpec, ...]:
        main = BindingSpec(self.name, self.route.exchange, self.route.routing_key)
        if self.instance is not None:
            return (main,)
        dlq = BindingSpec(self.dead_letter_queue, DEAD_LETTER_EXCHANGE, self.dead_letter_queue)
        return (main, dlq)

    def policy(self) -> PolicySpec:
        if self.per_instance:
            return PolicySpec(
                name=f"record-{self.name}",
                pattern=f"^{re.escape(self.name)}$",
                definition={"max-length": RECORD_LENGTH, "overflow": "drop-head"},
            )
        return PolicySpec(
            name=f"dlx-{self.name}",
            pattern=f"^{re.escape(self.name)}$",
            definition={
                "dead-letter-exchange": DEAD_LETTER_EXCHANGE,
                "dead-letter-routing-key": self.dead_letter_queue,
            },
        )


@dataclass(frozen=True)
class Topology:
    """The whole arrangement; declare it once, identically, from every process."""

    routes: tuple[EventRoute, ...]
    consumer_queues: tuple[ConsumerQueue, ...]

    @property
    def exchanges(self) -> tuple[ExchangeSpec, ...]:
        names = sorted({r.exchange for r in self.routes})
        return (
            *(ExchangeSpec(n) for n in names),
            ExchangeSpec(DEAD_LETTER_EXCHANGE, type="direct"),
        )

    @property
    def queues(self) -> tuple[QueueSpec, ...]:
        return tuple(q for cq in self.consumer_queues for q in cq.queues())

    @property
    def bindings(self) -> tuple[BindingSpec, ...]:
        return tuple(b for cq in self.consumer_queues for b in cq.bindings())

    @property
    def policies(self) -> tuple[PolicySpec, ...]:
        return tuple(cq.policy() for cq in self.consumer_queues)

    def consumer_queue(self, consumer: str, event_type: str) -> ConsumerQueue:
        for cq in self.consumer_queues:
            if cq.consumer == consumer and cq.event_type == event_type:
                return cq
        raise KeyError(f"{consumer!r} does not consume {event_type!r}")

    def instance_queue(self, consumer: str, event_type: str, instance: str) -> ConsumerQueue:
        """The queues of one instance of a ``broadcast_to`` consumer."""
        return self.consumer_queue(consumer, event_type).for_instance(instance)

    def by_queue_name(self, name: str) -> ConsumerQueue:
        """The consumer queue whose main, retry or dead-letter queue is ``name`` (an
        instance queue, ``<queue>@<instance>[.retry]``, gives that instance's)."""
        for cq in self.consumer_queues:
            if name in (cq.name, cq.retry_queue, cq.dead_letter_queue):
                return cq
            prefix = cq.name + INSTANCE_SEPARATOR
            if cq.per_instance and name.startswith(prefix):
                return cq.for_instance(name[len(prefix) :].removesuffix(RETRY_SUFFIX))
        raise KeyError(f"no consumer queue named {name!r}")

    def route(self, event_type: str) -> EventRoute:
        for r in self.routes:
            if r.event_type == event_type:
                return r
        raise KeyError(f"unknown event type {event_type!r}")


def build_topology(routes: Iterable[EventRoute] = EVENTS) -> Topology:
    """The topology of an event table (the project's own by default)."""
    routes = tuple(routes)
    consumer_queues = tuple(ConsumerQueue(c, r) for r in routes for c in r.consumers)
    return Topology(routes, consumer_queues)
