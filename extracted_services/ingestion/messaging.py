"""What ingestion says on the broker and how: the event builder, the publisher, the relay,
and the admission rule that turns a long broker outage into 503s.

``transactions_ingested_message`` is the one place the event is built; the request path
writes its result into the outbox, and the message pact verifies this same function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from contracts.events import TransactionsIngested
from contracts.transactions import Transaction
from eventbus import AsyncPublisher, Outbox, OutboxRelay, OutgoingMessage, encode
from extracted_services.ingestion.db import Database, outbox
from extracted_services.ingestion.settings import Settings

SERVICE_NAME = "ingestion"


def transactions_ingested_message(
    accepted: Sequence[Transaction], ingested_at: datetime, *, traceparent: str | None = None
) -> OutgoingMessage:
    """The event for a batch's newly stored transactions, encoded for the wire."""
    event = TransactionsIngested(ingested_at=ingested_at, transactions=list(accepted))
    return encode(event, traceparent=traceparent)


class Messaging:
    """The publisher and the outbox relay of one process, and when to refuse new work.

    Admission rule (documented in the README): new batches get a 503 when the broker has
    been unreachable for more than ``broker_grace_s`` or when ``max_outbox_backlog``
    events wait in the outbox. A short outage is absorbed by the outbox (202s continue,
    events follow on reconnect); a long one is reported at once instead of piling up work
    that the rest of the system cannot see.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        on_published: Callable[[int, list[float]], None] | None = None,
    ) -> None:
        self.settings = settings
        self.outbox = Outbox(outbox)
        self.publisher = AsyncPublisher(
            settings.amqp_uri,
            connect_timeout_s=settings.connect_timeout_s,
            confirm_timeout_s=settings.confirm_timeout_s,
            name=f"{SERVICE_NAME}-publisher",
        )
        self.relay = OutboxRelay(
            db.transaction,
            self.outbox,
            self.publisher,
            batch_size=settings.relay_batch_size,
            poll_interval_s=settings.relay_poll_interval_s,
            on_published=on_published,
            read_transaction=db.snapshot,
        )

    async def start(self) -> None:
        await self.publisher.start()
        await self.relay.start()

    async def close(self) -> None:
        await self.relay.close()
        await self.publisher.close()

    def refusal(self) -> str | None:
        """Why a new batch must be refused right now, or ``None`` to accept it."""
        down_for = self.publisher.down_for_s()
        if not self.publisher.connected and down_for > self.settings.broker_grace_s:
            return (
                f"the event broker has been unreachable for {down_for:.1f}s "
                f"({self.publisher.last_error}); retry later"
            )
        if self.relay.depth >= self.settings.max_outbox_backlog:
            return (
                f"{self.relay.depth} events wait to be published "
                f"(limit {self.settings.max_outbox_backlog}); retry later"
            )
        return None
