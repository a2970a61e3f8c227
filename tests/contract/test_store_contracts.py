"""The data contracts hold: each deployable's real schema has every column the kit's data
moves read or write there (``contracts.stores``), with a compatible type and nullability.

Each store's schema is created the way its owner creates it (the monolith's migrations, the
services' start-up), on SQLite and on PostgreSQL, then reflected and compared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Table, create_engine, inspect, types

from contracts.stores import inference as inference_store
from contracts.stores import ingestion as ingestion_store
from contracts.stores import monolith as monolith_store
from tests.postgres_support import fresh_schema

_AFFINITY: tuple[tuple[type[types.TypeEngine[object]], str], ...] = (
    (types.Integer, "integer"),
    (types.Numeric, "number"),
    (types.Float, "number"),
    (types.DateTime, "datetime"),
    (types.JSON, "json"),
    (types.Boolean, "boolean"),
    (types.String, "text"),
)


def _affinity(kind: types.TypeEngine[object]) -> str:
    for cls, name in _AFFINITY:
        if isinstance(kind, cls):
            return name
    return type(kind).__name__.lower()


def _compatible(expected: str, found: str) -> bool:
    if expected == found:
        return True
    # SQLite reflects JSON as JSON but PostgreSQL as JSON/JSONB; text may hold JSON on SQLite.
    return {expected, found} <= {"json", "jsonb", "text"} or (expected, found) == (
        "number",
        "integer",
    )


def _monolith(url: str) -> None:
    from legacy_monolith.db import Database

    db = Database(url)
    try:
        db.migrate()
    finally:
        db.dispose()


def _inference(url: str) -> None:
    from extracted_services.inference.audit import AuditDatabase

    db = AuditDatabase(url)
    try:
        db.create_schema()
    finally:
        db.dispose()


def _ingestion(url: str) -> None:
    from extracted_services.ingestion.db import Database

    db = Database(url)
    try:
        db.create_schema()
    finally:
        db.dispose()


STORES: dict[str, tuple[Callable[[str], None], tuple[Table, ...]]] = {
    "monolith": (
        _monolith,
        (
            monolith_store.transactions,
            monolith_store.predictions,
            monolith_store.model_versions,
            monolith_store.serving_state,
        ),
    ),
    "inference": (_inference, (inference_store.prediction_audit,)),
    "ingestion": (_ingestion, (ingestion_store.transactions,)),
}


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    request.applymarker(pytest.mark.postgres)
    with fresh_schema("store_contract") as url:
        yield url


def contract_problems(url: str, store: str, tables: tuple[Table, ...]) -> list[str]:
    """Every way the store at ``url`` falls short of its data contract (empty: it holds)."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        inspector = inspect(engine)
        problems = []
        for table in tables:
            if not inspector.has_table(table.name):
                problems.append(f"{store}: no table {table.name}")
                continue
            found = {c["name"]: c for c in inspector.get_columns(table.name)}
            for column in table.columns:
                real = found.get(column.name)
                if real is None:
                    problems.append(f"{store}.{table.name}: no column {column.name}")
                    continue
                expected, kind = _affinity(column.type), _affinity(real["type"])
                if not _compatible(expected, kind):
                    problems.append(
                        f"{store}.{table.name}.{column.name}: {kind}, the contract says {expected}"
                    )
                if not column.nullable and real["nullable"] and not column.primary_key:
                    problems.append(
                        f"{store}.{table.name}.{column.name}: nullable, the contract needs a value"
                    )
        return problems
    finally:
        engine.dispose()


@pytest.mark.parametrize("store", sorted(STORES))
def test_each_store_satisfies_its_data_contract(store: str, database_url: str) -> None:
    create, tables = STORES[store]
    create(database_url)
    assert contract_problems(database_url, store, tables) == []


def test_a_store_that_breaks_its_contract_is_named(tmp_path: Path) -> None:
    """The check itself: a missing column, a wrong type and a nullable column are named."""
    url = f"sqlite:///{tmp_path / 'broken.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE prediction_audit (prediction_id VARCHAR(64) PRIMARY KEY, "
            'transaction_id VARCHAR(64) NOT NULL, "transaction" JSON NOT NULL, '
            "features JSON NOT NULL, score VARCHAR(8) NOT NULL, decision VARCHAR(8), "
            "model_version VARCHAR(32) NOT NULL, explanation JSON NOT NULL, "
            "created_at DATETIME NOT NULL)"
        )
    engine.dispose()
    problems = contract_problems(url, "inference", (inference_store.prediction_audit,))
    assert problems == [
        "inference.prediction_audit.score: text, the contract says number",
        "inference.prediction_audit.decision: nullable, the contract needs a value",
        "inference.prediction_audit: no column origin",
    ]
