"""Opening a store the kit does not own, from the database URL its topology gives.

The engine is the deployables' own (``service_runtime.database``): the same driver, the same
SQLite settings (a writer waits for the owner's lock instead of failing), the same
pre-ping on PostgreSQL, so a data move meets a store as its owner does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from service_runtime.database import create_engine


def open_engine(url: str) -> Engine:
    """An engine on a store another process owns and may be writing to right now."""
    return create_engine(url)


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
