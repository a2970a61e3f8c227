"""Route table, version and rollbacks shared by every replica of the proxy, through one store.

In a cluster the proxy runs as several replicas. What must agree across them lives here:
the live table and its version (a version number is a row of the shared ``tables`` table,
so every replica reports the same number for the same table) and a canary rollback (a row
of ``rollbacks``: a rollback decided on one replica reaches the others at their next poll,
within ``poll_s``). What stays per replica: breakers, retry budgets, shadow counters and the
canary windows themselves (each replica judges its own share of the traffic; the first to
see the SLO broken rolls the route back everywhere).

The store is SQLite (``sqlite:///ABSOLUTE/PATH``) on a volume every replica mounts, in WAL
mode; each replica polls it. A PostgreSQL table would take the same two tables.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

logger = logging.getLogger(__name__)

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS tables (
        version INTEGER PRIMARY KEY AUTOINCREMENT,
        yaml TEXT NOT NULL,
        applied_by TEXT NOT NULL,
        origin TEXT NOT NULL,
        reverted_to INTEGER,
        replica TEXT NOT NULL,
        applied_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS rollbacks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        table_version INTEGER NOT NULL,
        route TEXT NOT NULL,
        threshold TEXT NOT NULL,
        limit_value REAL NOT NULL,
        measured REAL NOT NULL,
        replica TEXT NOT NULL,
        at TEXT NOT NULL)""",
)


class SharedStateError(Exception):
    """The shared state URL is not one this proxy can use."""


@dataclass(frozen=True, slots=True)
class SharedTable:
    version: int
    yaml: str
    applied_by: str
    origin: str
    reverted_to: int | None
    replica: str


@dataclass(frozen=True, slots=True)
class SharedRollback:
    id: int
    table_version: int
    route: str
    threshold: str
    limit: float
    measured: float
    replica: str


def sqlite_path(url: str) -> Path:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise SharedStateError(f"{url!r}: give sqlite:///ABSOLUTE/PATH")
    return Path("/" + url[len(prefix) :].lstrip("/"))


class SharedState:
    """The two shared tables; every call is one short transaction."""

    def __init__(self, url: str, replica: str) -> None:
        self.path = sqlite_path(url)
        self.replica = replica
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            for statement in _SCHEMA:
                db.execute(statement)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=5.0, isolation_level=None)

    def publish_table(
        self, yaml_text: str, applied_by: str, origin: str, reverted_to: int | None
    ) -> int:
        """Record a table applied on this replica; its row id is the version everywhere."""
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO tables (yaml, applied_by, origin, reverted_to, replica, applied_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    yaml_text,
                    applied_by,
                    origin,
                    reverted_to,
                    self.replica,
                    datetime.now(UTC).isoformat(),
                ),
            )
            return int(cursor.lastrowid or 0)

    def tables_after(self, version: int) -> list[SharedTable]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT version, yaml, applied_by, origin, reverted_to, replica FROM tables "
                "WHERE version > ? ORDER BY version",
                (version,),
            ).fetchall()
        return [SharedTable(*row) for row in rows]

    def latest_table(self) -> SharedTable | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT version, yaml, applied_by, origin, reverted_to, replica FROM tables "
                "ORDER BY version DESC LIMIT 1"
            ).fetchone()
        return SharedTable(*row) if row else None

    def table_at(self, version: int) -> str | None:
        with self._connect() as db:
            row = db.execute("SELECT yaml FROM tables WHERE version = ?", (version,)).fetchone()
        return str(row[0]) if row else None

    def publish_rollback(
        self, table_version: int, route: str, threshold: str, limit: float, measured: float
    ) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO rollbacks (table_version, route, threshold, limit_value, measured,"
                " replica, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    table_version,
                    route,
                    threshold,
                    limit,
                    measured,
                    self.replica,
                    datetime.now(UTC).isoformat(),
                ),
            )

    def rollbacks_after(self, last_id: int) -> list[SharedRollback]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, table_version, route, threshold, limit_value, measured, replica "
                "FROM rollbacks WHERE id > ? ORDER BY id",
                (last_id,),
            ).fetchall()
        return [SharedRollback(*row) for row in rows]

    def last_rollback_id(self) -> int:
        with self._connect() as db:
            row = db.execute("SELECT COALESCE(MAX(id), 0) FROM rollbacks").fetchone()
        return int(row[0])
