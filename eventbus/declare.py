"""Declaring the topology on a live broker: the same specs through aio-pika, pika and HTTP.

Every process that publishes or consumes declares the whole topology once at connect
time (declarations are idempotent when the arguments agree), so no publish ever races a
missing queue; policies go through the management API (see ``management.py``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange

from eventbus.management import Management, ManagementError
from eventbus.topology import POLICY_PRIORITY, ConsumerQueue, PolicySpec, Topology

logger = logging.getLogger(__name__)


async def declare_async(
    channel: AbstractChannel, topology: Topology
) -> dict[str, AbstractExchange]:
    """Declare exchanges, queues and bindings with aio-pika; return the exchanges by name."""
    exchanges: dict[str, AbstractExchange] = {}
    for spec in topology.exchanges:
        exchanges[spec.name] = await channel.declare_exchange(
            spec.name, aio_pika.ExchangeType(spec.type), durable=spec.durable
        )
    queues = {}
    for queue in topology.queues:
        queues[queue.name] = await channel.declare_queue(
            queue.name, durable=queue.durable, arguments=dict(queue.arguments) or None
        )
    for binding in topology.bindings:
        await queues[binding.queue].bind(
            exchanges[binding.exchange], routing_key=binding.routing_key
        )
    return exchanges


async def declare_instance_async(
    channel: AbstractChannel, queue: ConsumerQueue, exchanges: dict[str, AbstractExchange]
) -> None:
    """Declare and bind the queues of one instance of a broadcast consumer."""
    declared = {}
    for spec in queue.queues():
        declared[spec.name] = await channel.declare_queue(
            spec.name, durable=spec.durable, arguments=dict(spec.arguments) or None
        )
    for binding in queue.bindings():
        await declared[binding.queue].bind(
            exchanges[binding.exchange], routing_key=binding.routing_key
        )


def declare_sync(channel: Any, topology: Topology) -> None:
    """Declare exchanges, queues and bindings on a pika ``BlockingChannel``."""
    for spec in topology.exchanges:
        channel.exchange_declare(spec.name, exchange_type=spec.type, durable=spec.durable)
    for queue in topology.queues:
        channel.queue_declare(
            queue.name, durable=queue.durable, arguments=dict(queue.arguments) or None
        )
    for binding in topology.bindings:
        channel.queue_bind(binding.queue, binding.exchange, routing_key=binding.routing_key)


def apply_policies(management: Management, topology: Topology, *, required: bool = False) -> bool:
    """Set the dead-letter policy of every consumer queue; ``False`` if the API is absent.

    Only nameko workers (which reject failed messages) depend on the policies; a process
    that does not need them passes ``required=False`` and carries on with a warning.
    """
    try:
        for policy in topology.policies:
            management.apply_policy(policy)
    except ManagementError as exc:
        if required:
            raise
        logger.warning("dead-letter policies not applied (%s)", exc)
        return False
    return True


#: Retirement outranks the dead-letter policy on the same queue.
RETIRED_PRIORITY = POLICY_PRIORITY + 10


def _retired_queues(topology: Topology, consumer: str) -> list[str]:
    return [
        name
        for cq in topology.consumer_queues
        if cq.consumer == consumer and not cq.per_instance
        for name in (cq.name, cq.retry_queue)
    ]


def _retired_policy(queue: str) -> PolicySpec:
    return PolicySpec(
        name=f"retired-{queue}",
        pattern=f"^{re.escape(queue)}$",
        definition={"max-length": 0, "overflow": "drop-head"},
        priority=RETIRED_PRIORITY,
    )


def retire_consumer(management: Management, topology: Topology, consumer: str) -> list[str]:
    """A decommissioned consumer: its queues keep no message (a ``max-length`` 0 policy).

    Every process declares the whole topology, so a retired consumer's queues would be
    declared again and fill forever with events nobody reads; a policy outlives that.
    Messages already queued are dropped. Returns the queues retired."""
    queues = _retired_queues(topology, consumer)
    for queue in queues:
        management.apply_policy(_retired_policy(queue))
    return queues


def restore_consumer(management: Management, topology: Topology, consumer: str) -> None:
    """Undo :func:`retire_consumer` (the consumer runs again; what was dropped is gone)."""
    for queue in _retired_queues(topology, consumer):
        management.delete_policy(_retired_policy(queue).name)
