"""The messaging layer every deployable shares: topology, wire format, publishers,
consumers, the transactional outbox, idempotency and dead-letter handling.

nameko workers also import ``eventbus.nameko_handler`` (not re-exported here, so that
importing this package never imports nameko or eventlet).
"""

from eventbus.backoff import Backoff
from eventbus.consumer_async import AsyncConsumer, AsyncHandler
from eventbus.consumer_batch import BatchConsumer, BatchHandler
from eventbus.consumer_sync import ConsumerStats, SyncConsumer, SyncHandler
from eventbus.declare import (
    apply_policies,
    declare_async,
    declare_sync,
    restore_consumer,
    retire_consumer,
)
from eventbus.dlq import ParkedMessage, QueueDepth, depths, list_parked, replay
from eventbus.idempotency import ProcessedEvents, processed_events_table
from eventbus.management import Management, ManagementError
from eventbus.outbox import Outbox, OutboxRelay, PendingEvent, outbox_table
from eventbus.publisher_async import AsyncPublisher, BrokerUnavailable, PublishFailed
from eventbus.publisher_sync import SyncPublisher
from eventbus.retry import PermanentFailure, RetryPolicy, on_failure
from eventbus.topology import ConsumerQueue, Topology, build_topology, handler_method
from eventbus.wire import Delivery, InvalidMessage, OutgoingMessage, decode, encode

DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"

__all__ = [
    "DEFAULT_AMQP_URI",
    "AsyncConsumer",
    "AsyncHandler",
    "AsyncPublisher",
    "Backoff",
    "BatchConsumer",
    "BatchHandler",
    "BrokerUnavailable",
    "ConsumerQueue",
    "ConsumerStats",
    "Delivery",
    "InvalidMessage",
    "Management",
    "ManagementError",
    "OutgoingMessage",
    "Outbox",
    "OutboxRelay",
    "ParkedMessage",
    "PendingEvent",
    "PermanentFailure",
    "ProcessedEvents",
    "PublishFailed",
    "QueueDepth",
    "RetryPolicy",
    "SyncConsumer",
    "SyncHandler",
    "SyncPublisher",
    "Topology",
    "apply_policies",
    "build_topology",
    "decode",
    "declare_async",
    "declare_sync",
    "depths",
    "encode",
    "handler_method",
    "list_parked",
    "on_failure",
    "outbox_table",
    "processed_events_table",
    "replay",
    "restore_consumer",
    "retire_consumer",
]
