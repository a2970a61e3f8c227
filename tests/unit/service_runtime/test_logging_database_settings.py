"""The JSON formatter carries the trace id; database URLs and SQLite pragmas; settings."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, Table, select, text

from service_runtime.database import (
    Database,
    create_engine,
    insert_ignoring_conflicts,
    normalise_url,
)
from service_runtime.logging import (
    JsonFormatter,
    bind_traceparent,
    trace_id_of,
    unbind_traceparent,
)
from service_runtime.settings import ServiceSettings

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE}-00f067aa0ba902b7-01"


def _line(message: str, exc: bool = False) -> dict:
    record = logging.LogRecord("kit.test", logging.INFO, __file__, 1, message, (), None)
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            import sys

            record.exc_info = sys.exc_info()
    return json.loads(JsonFormatter("monitoring").format(record))


def test_every_line_carries_the_current_trace_id() -> None:
    assert "trace_id" not in _line("no request")
    token = bind_traceparent(TRACEPARENT)
    try:
        line = _line("handling %s")
    finally:
        unbind_traceparent(token)
    assert line["trace_id"] == TRACE
    assert line["service"] == "monitoring" and line["level"] == "INFO"
    assert line["logger"] == "kit.test" and line["ts"].endswith("+00:00")
    assert "trace_id" not in _line("after the request")


def test_a_malformed_traceparent_gives_no_trace_id() -> None:
    assert trace_id_of("garbage") is None and trace_id_of(None) is None
    token = bind_traceparent("00-short-01")
    try:
        assert "trace_id" not in _line("x")
    finally:
        unbind_traceparent(token)


def test_an_exception_is_in_its_line() -> None:
    assert "ValueError: boom" in _line("failed", exc=True)["exception"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgres://u@h/db?sslmode=require", "postgresql+psycopg://u@h/db?sslmode=require"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///var/x.db", "sqlite:///var/x.db"),
    ],
)
def test_postgres_urls_use_psycopg_3(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


def test_sqlite_gets_its_folder_and_pragmas_and_no_pre_ping(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'deep' / 'er' / 'store.db'}")
    try:
        assert (tmp_path / "deep" / "er").is_dir()
        assert engine.pool._pre_ping is False
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA synchronous").scalar() == 1  # NORMAL
            assert pragma("PRAGMA busy_timeout").scalar() == 10000
            assert pragma("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_postgres_engines_pre_ping() -> None:
    engine = create_engine("postgresql://u:p@127.0.0.1:1/none", pool_size=7)
    assert engine.dialect.driver == "psycopg"
    assert engine.pool._pre_ping is True and engine.pool.size() == 7
    engine.dispose()


def test_a_database_commits_rolls_back_and_ignores_conflicts(tmp_path: Path) -> None:
    metadata = MetaData()
    table = Table("t", metadata, Column("key", String(8), primary_key=True))
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        metadata.create_all(db.engine)
        with db.session() as session:
            session.execute(table.insert().values(key="a"))
        with pytest.raises(RuntimeError), db.session() as session:
            session.execute(table.insert().values(key="b"))
            raise RuntimeError
        with db.session() as session:
            statement = insert_ignoring_conflicts(table, db.engine.dialect.name)
            session.execute(statement, [{"key": "a"}, {"key": "c"}])
            assert sorted(session.scalars(select(table.c.key))) == ["a", "c"]
            assert session.execute(text("SELECT 1")).scalar() == 1
        assert db.reachable() and db.is_sqlite
    finally:
        db.dispose()
    gone = Database(f"sqlite:///{tmp_path / 'gone' / 'x.db'}")
    (tmp_path / "gone").rmdir()  # the folder is made at start; removed, no file can be opened
    assert not gone.reachable()
    gone.dispose()


class _Settings(ServiceSettings):
    model_config = {**ServiceSettings.model_config, "env_prefix": "KITTEST_"}
    port: int = 1
    database_url: str = "sqlite:///default.db"


def test_settings_read_the_prefixed_name_then_the_common_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _Settings().port == 1 and _Settings().log_level == "INFO"
    monkeypatch.setenv("PORT", "2")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("DATABASE_URL", "postgresql://h/db")
    assert _Settings().port == 2 and _Settings().log_level == "DEBUG"
    monkeypatch.setenv("KITTEST_PORT", "3")
    settings = _Settings()
    assert settings.port == 3 and settings.database_url == "postgresql://h/db"
    assert _Settings(port=4).port == 4
