"""The ingestion service's own database: its tables and serialised SQLite writes, on the
kit's engine and sessions (``service_runtime.database``).

SQLite by default, PostgreSQL via ``DATABASE_URL``. The schema is explicit and created at
start-up (``Database.create_schema`` from the app's lifespan), never by a request. The
``outbox`` table is the messaging layer's; it lives here so that a transaction and its
event commit together.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from sqlalchemy import Boolean, Column, DateTime, MetaData, Numeric, String, Table, Text
from sqlalchemy.orm import Session

from eventbus import outbox_table
from service_runtime import database

metadata = MetaData()

transactions = Table(
    "transactions",
    metadata,
    Column("transaction_id", String(64), primary_key=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("amount", Numeric(12, 2, asdecimal=False), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("merchant_category", String(4), nullable=False),
    Column("country", String(2), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("is_fraud", Boolean, nullable=True),
    Column("payload", Text, nullable=False),
    Column("ingested_at", DateTime(timezone=True), nullable=False, index=True),
)

outbox = outbox_table(metadata)


class Database(database.Database):
    """The ingestion store (``service_runtime.database``). On SQLite, writers take a lock
    first: SQLite allows one writer anyway, and queueing in Python is fairer than its
    busy-retry loop."""

    def __init__(self, url: str) -> None:
        super().__init__(url, metadata, pool_size=10)
        self._write_lock = threading.Lock()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        with self._write_lock if self.is_sqlite else nullcontext(), self.session() as session:
            yield session

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read-only use of the database: no writer lock (WAL readers never block)."""
        with self.session() as session:
            yield session
