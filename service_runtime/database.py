"""Opening a deployable's own database: SQLite by default, PostgreSQL via ``DATABASE_URL``.

Every store (the monolith's, the ingestion and training databases, the inference audit,
the monitoring log) opens its engine here, so a store that works on one of the two works
on the other with the same settings:

- ``postgresql://`` and ``postgres://`` URLs use psycopg 3 (SQLAlchemy alone would pick
  psycopg2, which the kit does not install);
- SQLite: the file's folder is created; every connection gets WAL (readers never wait for
  the writer), ``synchronous=NORMAL`` (durable at each checkpoint, not each commit: WAL
  makes that safe against a crash of the process), a 10 s ``busy_timeout`` (a second writer
  waits instead of failing) and ``foreign_keys=ON`` (as PostgreSQL always enforces them);
- a pre-ping on checkout on PostgreSQL (a server connection may have died while pooled),
  none on SQLite (a file has no connection to lose; it would cost a query per checkout).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import Engine, MetaData, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
)


def normalise_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` and ``postgres://`` URLs; others unchanged."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def create_engine(url: str, *, pool_size: int | None = None) -> Engine:
    """An engine for ``url`` with the kit's settings (module docstring); ``pool_size``
    raises the pool above SQLAlchemy's 5 for a store with more concurrent users."""
    url = normalise_url(url)
    is_sqlite = url.startswith("sqlite")
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {"pool_pre_ping": not is_sqlite}
    if pool_size is not None:
        options["pool_size"] = pool_size
    engine = sqlalchemy.create_engine(url, **options)
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Database:
    """An engine and its sessions: the part of every store that is not its schema
    (``metadata``: the tables :meth:`create_schema` creates, when the store has them)."""

    def __init__(
        self, url: str, metadata: MetaData | None = None, *, pool_size: int | None = None
    ) -> None:
        self.url = normalise_url(url)
        self.metadata = metadata
        self.engine: Engine = create_engine(self.url, pool_size=pool_size)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def create_schema(self) -> None:
        """Create the store's tables that do not exist yet (an explicit start-up step,
        never a request's side effect)."""
        if self.metadata is not None:
            self.metadata.create_all(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def reachable(self) -> bool:
        """Whether a trivial query succeeds (for ``/readyz``)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any driver error means "not reachable"
            return False

    def dispose(self) -> None:
        self.engine.dispose()


def insert_ignoring_conflicts(table: Any, dialect: str) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` into ``table`` (a ``Table`` or a mapped class)
    for ``dialect`` (``"sqlite"`` or ``"postgresql"``, both of which spell it alike): a row
    whose key is stored already, by a redelivery or a concurrent writer, is skipped."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise ValueError(f"no conflict-ignoring insert for the {dialect!r} dialect")
