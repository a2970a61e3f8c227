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
POLICY_PRIORITY = 10


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
    """Everything one consumer of one event type reads from and parks into."""

    consumer: str
    route: EventRoute

    @property
    def event_type(self) -> str:
        return self.route.event_type

    @property
    def name(self) -> str:
        """The main queue, exactly as nameko names a ``SERVICE_POOL`` handler's queue."""
        return self.route.queue_name(self.consumer, handler_method(self.event_type))

    @property
    def retry_queue(self) -> str:
        return self.name + RETRY_SUFFIX

    @property
    def dead_letter_queue(self) -> str:
        return self.name + DLQ_SUFFIX

    def queues(self) -> tuple[QueueSpec, ...]:
        return (
            QueueSpec(self.name),
            QueueSpec(
                self.retry_queue,
                {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": self.name},
            ),
            QueueSpec(self.dead_letter_queue),
        )

    def bindings(self) -> tuple[BindingSpec, ...]:
        return (
            BindingSpec(self.name, self.route.exchange, self.route.routing_key),
            BindingSpec(self.dead_letter_queue, DEAD_LETTER_EXCHANGE, self.dead_letter_queue),
        )

    def policy(self) -> PolicySpec:
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

    def by_queue_name(self, name: str) -> ConsumerQueue:
        """The consumer queue whose main, retry or dead-letter queue is ``name``."""
        for cq in self.consumer_queues:
            if name in (cq.name, cq.retry_queue, cq.dead_letter_queue):
                return cq
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
