"""Real processes: the ingestion service and the legacy sync, on a throw-away vhost."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from migration_playbook.runner.process import ManagedProcess, free_port
from tests.amqp_support import fresh_vhost
from tests.postgres_support import fresh_schema


@pytest.fixture()
def vhost() -> Iterator[str]:
    with fresh_vhost("kit-ingestion") as uri:
        yield uri


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ingestion_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ingestion.db'}"
        return
    with fresh_schema("ingestion") as url:
        yield url


@dataclass
class Stack:
    ingestion: ManagedProcess
    sync: ManagedProcess
    ingestion_db: str
    monolith_db: str
    amqp_uri: str


def start_ingestion(folder: Path, db: str, amqp: str, **env: str) -> ManagedProcess:
    process = ManagedProcess(
        name="ingestion",
        module="extracted_services.ingestion",
        port=free_port(),
        log_path=folder / "ingestion.log",
        env={"DATABASE_URL": db, "AMQP_URI": amqp, "INGESTION_LOG_JSON": "false", **env},
    )
    process.start()
    return process


def start_sync(folder: Path, db: str, amqp: str, **env: str) -> ManagedProcess:
    process = ManagedProcess(
        name="legacy-sync",
        module="legacy_monolith.sync",
        port=free_port(),
        log_path=folder / "sync.log",
        env={
            "DATABASE_URL": db,
            "AMQP_URI": amqp,
            "MONOLITH_LOG_JSON": "false",
            "MONOLITH_SYNC_MAX_RETRIES": "2",
            "MONOLITH_SYNC_RETRY_DELAY_S": "0.3",
            **env,
        },
    )
    process.start()
    return process


@pytest.fixture()
def stack(tmp_path: Path, vhost: str, ingestion_db: str) -> Iterator[Stack]:
    monolith_db = f"sqlite:///{tmp_path / 'monolith.db'}"
    ingestion = start_ingestion(tmp_path, ingestion_db, vhost)
    sync = start_sync(tmp_path, monolith_db, vhost)
    try:
        ingestion.wait_ready(60)
        sync.wait_ready(60)
        yield Stack(ingestion, sync, ingestion_db, monolith_db, vhost)
    finally:
        ingestion.stop()
        sync.stop()
