"""Everything one ingestion process holds open: database, metrics, publisher and relay.

Built and closed by the app's lifespan; handlers reach it through ``deps.py``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from extracted_services.ingestion.db import Database
from extracted_services.ingestion.messaging import Messaging
from extracted_services.ingestion.observability import Metrics
from extracted_services.ingestion.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    db: Database
    metrics: Metrics
    messaging: Messaging

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
        await self.messaging.close()
        self.db.dispose()
