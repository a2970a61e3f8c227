"""Reconciliation: counts, checksums and missing ids; ``kit data reconcile`` exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from migration_playbook.cli.app import app
from migration_playbook.datamoves.reconcile import checksum, reconcile, reconcile_ingestion


def store(path: Path, rows: dict[str, float]) -> str:
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE transactions (transaction_id TEXT PRIMARY KEY, "
                "amount NUMERIC(12, 2), ingested_at TIMESTAMP)"
            )
        )
        for tid, amount in rows.items():
            connection.execute(
                text("INSERT INTO transactions VALUES (:t, :a, '2026-11-25 10:00:00')"),
                {"t": tid, "a": amount},
            )
    engine.dispose()
    return url


def test_identical_stores_reconcile() -> None:
    report = reconcile({"a": 100, "b": 250}, {"b": 250, "a": 100})
    assert report.ok and report.checksums_match
    assert report.ingestion.count == report.monolith.count == 2


def test_every_kind_of_difference_is_reported() -> None:
    report = reconcile({"a": 100, "b": 250, "c": 1}, {"a": 100, "b": 251, "d": 5})
    assert not report.ok
    assert report.missing_in_monolith == ["c"]
    assert report.missing_in_ingestion == ["d"]
    assert report.amount_mismatches == ["b"]
    assert not report.checksums_match


def test_checksum_covers_ids_and_amounts() -> None:
    assert checksum({"a": 1}) != checksum({"a": 2})
    assert checksum({"a": 1}) != checksum({"b": 1})
    assert checksum({"a": 1, "b": 2}) == checksum({"b": 2, "a": 1})


def test_coexistence_direction_tolerates_the_monoliths_own_history() -> None:
    report = reconcile({"a": 1}, {"a": 1, "old": 7}, direction="ingestion-in-monolith")
    assert report.ok and report.missing_in_ingestion_count == 1
    assert not reconcile({"a": 1, "lost": 2}, {"a": 1}, direction="ingestion-in-monolith").ok


def test_reads_real_databases_and_the_cli_exits_non_zero_on_difference(tmp_path: Path) -> None:
    ingestion = store(tmp_path / "i.db", {"t1": 10.5, "t2": 3.0})
    same = store(tmp_path / "same.db", {"t2": 3.0, "t1": 10.5})
    different = store(tmp_path / "diff.db", {"t1": 10.5})
    assert reconcile_ingestion(ingestion, same).ok
    runner = CliRunner()
    args = ["data", "reconcile", "ingestion", "--ingestion-db", ingestion, "--json"]
    ok = runner.invoke(app, [*args, "--monolith-db", same])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["ok"] is True
    bad = runner.invoke(app, [*args, "--monolith-db", different])
    assert bad.exit_code == 1
    document = json.loads(bad.output)
    assert document["missing_in_monolith"] == ["t2"]
    assert document["ingestion"]["count"] == 2 and document["monolith"]["count"] == 1
    human = runner.invoke(app, args[:-1] + ["--monolith-db", different])
    assert human.exit_code == 1 and "missing in monolith: 1" in human.output
