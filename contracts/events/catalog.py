"""The event table: who produces each event, on which exchange, and who consumes it.

This is data, not documentation: the messaging layer declares its topology from it
(nameko's convention: a durable topic exchange ``<producer>.events``, routing key = event
type, one durable queue per consuming handler), and the message pacts are checked against
it, so a new consumer is one row here.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.events.envelope import Event
from contracts.events.models import (
    ChallengerProposed,
    DriftDetected,
    ModelPromoted,
    PredictionLogged,
    ShadowScored,
    TrainingCompleted,
    TransactionsIngested,
)

EXCHANGE_TYPE = "topic"


@dataclass(frozen=True)
class EventRoute:
    """One event type, its model, its producer service and its consumer services.

    ``broadcast_to`` names consumers whose every instance must see every event (each
    instance of the inference service must swap to a promoted model): each instance
    consumes a queue of its own. The other consumers' instances compete on one queue.
    """

    model: type[Event]
    producer: str
    consumers: tuple[str, ...]
    broadcast_to: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        stray = set(self.broadcast_to) - set(self.consumers)
        if stray:
            raise ValueError(f"broadcast_to names non-consumers: {', '.join(sorted(stray))}")

    @property
    def event_type(self) -> str:
        """The event type, which is also the routing key."""
        return self.model.type_name()

    @property
    def exchange(self) -> str:
        """The producer's exchange, as nameko names it."""
        return f"{self.producer}.events"

    @property
    def routing_key(self) -> str:
        """Routing key of every message of this type."""
        return self.event_type

    @property
    def schema_version(self) -> int:
        """The version the model produces."""
        return self.model.version()

    def queue_name(self, consumer: str, method: str) -> str:
        """The durable queue of one consuming handler, as nameko declares it."""
        if consumer not in self.consumers:
            raise ValueError(f"{consumer!r} does not consume {self.event_type!r}")
        return f"evt-{self.producer}-{self.event_type}--{consumer}.{method}"


EVENTS: tuple[EventRoute, ...] = (
    EventRoute(TransactionsIngested, producer="ingestion", consumers=("training", "legacy_sync")),
    EventRoute(PredictionLogged, producer="inference", consumers=("monitoring",)),
    EventRoute(TrainingCompleted, producer="training", consumers=("monitoring",)),
    EventRoute(
        ModelPromoted, producer="training", consumers=("inference",), broadcast_to=("inference",)
    ),
    EventRoute(DriftDetected, producer="monitoring", consumers=("training",)),
    EventRoute(
        ChallengerProposed,
        producer="training",
        consumers=("inference",),
        broadcast_to=("inference",),
    ),
    EventRoute(ShadowScored, producer="inference", consumers=("training",)),
)


def route_for(event_type: str) -> EventRoute:
    """The row of one event type; ``KeyError`` names the known types."""
    for route in EVENTS:
        if route.event_type == event_type:
            return route
    known = ", ".join(r.event_type for r in EVENTS)
    raise KeyError(f"unknown event type {event_type!r}; known: {known}")


def exchanges() -> dict[str, tuple[EventRoute, ...]]:
    """Every exchange with the routes published on it (for declaring topology once)."""
    out: dict[str, list[EventRoute]] = {}
    for route in EVENTS:
        out.setdefault(route.exchange, []).append(route)
    return {name: tuple(routes) for name, routes in out.items()}


def consumed_by(service: str) -> tuple[EventRoute, ...]:
    """The events one service must bind queues for."""
    return tuple(r for r in EVENTS if service in r.consumers)


def parse_event(event_type: str, body: bytes | str) -> Event:
    """Validate a message body by its routing key (tolerant of unknown fields)."""
    return route_for(event_type).model.from_message(body)
