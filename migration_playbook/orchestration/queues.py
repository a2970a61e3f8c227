"""The consumer queues a phase retires when it decommissions a consumer, and restores when
the consumer runs again (through the broker's management API)."""

from __future__ import annotations

from typing import Protocol

from eventbus import Management, build_topology, restore_consumer, retire_consumer


class ConsumerQueues(Protocol):
    def restore(self, consumer: str) -> None:
        """Its queues keep messages again."""
        ...

    def retire(self, consumer: str) -> list[str]:
        """Its queues keep nothing more (nobody reads them); the queue names."""
        ...


class BrokerQueues:
    """``ConsumerQueues`` on the broker of one AMQP URI (its vhost)."""

    def __init__(self, amqp_uri: str) -> None:
        self.amqp_uri = amqp_uri

    def _management(self) -> Management:
        return Management.from_amqp_uri(self.amqp_uri)

    def restore(self, consumer: str) -> None:
        restore_consumer(self._management(), build_topology(), consumer)

    def retire(self, consumer: str) -> list[str]:
        return list(retire_consumer(self._management(), build_topology(), consumer))
