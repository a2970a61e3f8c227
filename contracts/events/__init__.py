"""Events on the broker: the envelope, one model per event type, and the event table.

The JSON Schema of each event (``<event_type>.schema.json`` in this folder) is generated
from these models by ``make contracts`` and checked by the tests.
"""

from contracts.events.catalog import (
    EVENTS,
    EXCHANGE_TYPE,
    EventRoute,
    consumed_by,
    exchanges,
    parse_event,
    route_for,
)
from contracts.events.envelope import (
    EVENT_CONTENT_TYPE,
    TRACEPARENT_HEADER,
    Event,
    EventMessage,
    is_traceparent,
    new_traceparent,
)
from contracts.events.models import (
    ChallengerProposed,
    DriftDetected,
    FeatureReference,
    LoggedDecision,
    ModelPromoted,
    PredictionLogged,
    ShadowScored,
    TrainingCompleted,
    TransactionsIngested,
)

__all__ = [
    "EVENTS",
    "EVENT_CONTENT_TYPE",
    "EXCHANGE_TYPE",
    "TRACEPARENT_HEADER",
    "ChallengerProposed",
    "DriftDetected",
    "Event",
    "EventMessage",
    "EventRoute",
    "FeatureReference",
    "LoggedDecision",
    "ModelPromoted",
    "PredictionLogged",
    "ShadowScored",
    "TrainingCompleted",
    "TransactionsIngested",
    "consumed_by",
    "exchanges",
    "is_traceparent",
    "new_traceparent",
    "parse_event",
    "route_for",
]
