"""Opening a store the kit does not own, from the database URL its topology gives."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine


def normalise_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def open_engine(url: str) -> Engine:
    """An engine on a store another process owns and may be writing to right now: on
    SQLite it waits for that writer's lock (up to 30 s) instead of failing at once."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return create_engine(url, connect_args={"timeout": 30})
    return create_engine(url, pool_pre_ping=True)


@contextmanager
def store_engine(url: str) -> Iterator[Engine]:
    """An engine on one store for the length of a data move, disposed after."""
    engine = open_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def redact(url: str) -> str:
    """``url`` without its credentials (for reports and messages)."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
