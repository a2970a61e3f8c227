"""The ingestion service's own database: its tables, engine, and serialised SQLite writes.

SQLite by default, PostgreSQL via ``DATABASE_URL``. The schema is explicit and created at
start-up (``Database.create_schema`` from the app's lifespan), never by a request. The
``outbox`` table is the messaging layer's; it lives here so that a transaction and its
event commit together.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    create_engine,
    event,
    text,
)
from sqlalchemy.orm import Session, sessionmaker

from eventbus import outbox_table

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


def normalise_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Database:
    """Engine and transactions. On SQLite, writers take a lock first: SQLite allows one
    writer anyway, and queueing in Python is fairer than its busy-retry loop."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        if self.url.startswith("sqlite:///"):
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.is_sqlite = self.url.startswith("sqlite")
        # A pre-ping finds dead server connections; a SQLite file has none (it costs a
        # query per checkout there).
        self.engine: Engine = create_engine(
            self.url, pool_pre_ping=not self.is_sqlite, pool_size=10
        )
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = threading.Lock()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        with (
            self._write_lock if self.is_sqlite else nullcontext(),
            self._sessions() as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read-only use of the database: no writer lock (WAL readers never block)."""
        with self._sessions() as session, session.begin():
            yield session

    def create_schema(self) -> None:
        metadata.create_all(self.engine)

    def reachable(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any driver error means "not reachable"
            return False

    def dispose(self) -> None:
        self.engine.dispose()
