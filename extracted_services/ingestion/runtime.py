"""Everything one ingestion process holds open: database, metrics, publisher and relay.

Built and closed by the app's lifespan; handlers reach it through ``deps.py``.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from extracted_services.ingestion.db import Database
from extracted_services.ingestion.messaging import Messaging
from extracted_services.ingestion.metrics import Metrics
from extracted_services.ingestion.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    db: Database
    metrics: Metrics
    messaging: Messaging
    #: The threads that store transactions, off the event loop: one on SQLite (writers
    #: queue here, not in SQLite's busy-retry loop), a few on PostgreSQL.
    writer: ThreadPoolExecutor = field(init=False)

    def __post_init__(self) -> None:
        threads = 1 if self.db.is_sqlite else 4
        self.writer = ThreadPoolExecutor(threads, thread_name_prefix="ingest")

    @classmethod
    async def open(cls, settings: Settings) -> Runtime:
        db = Database(settings.database_url)
        await asyncio.to_thread(db.create_schema)
        metrics = Metrics()
        messaging = Messaging(settings, db, on_published=metrics.on_published)
        metrics.outbox_depth.set_function(lambda: messaging.relay.depth)
        metrics.broker_connected.set_function(lambda: float(messaging.publisher.connected))
        await messaging.start()
        return cls(settings, db, metrics, messaging)

    async def close(self) -> None:
        self.writer.shutdown(wait=True)
        await self.messaging.close()
        self.db.dispose()
