"""What the kit reads in the monolith's database: its transactions (reconciliation), its
prediction audit (backfill) and its model versions (the model export)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)

metadata = MetaData()

transactions = Table(
    "transactions",
    metadata,
    Column("transaction_id", String(64), primary_key=True),
    Column("amount", Numeric(12, 2, asdecimal=False), nullable=False),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
)

predictions = Table(
    "predictions",
    metadata,
    Column("prediction_id", String(36), primary_key=True),
    Column("transaction_id", String(64), nullable=False),
    Column("transaction", JSON, nullable=False),
    Column("features", JSON, nullable=False),
    Column("score", Float, nullable=False),
    Column("decision", String(8), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("explanation", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("training_run_id", String(36), nullable=True),
    Column("feature_spec_version", String(16), nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False),
    Column("window_end", DateTime(timezone=True), nullable=False),
    Column("window_rows", Integer, nullable=False),
    Column("artifact_path", Text, nullable=False),
)

#: One row: which model version serves (absent until the first promotion).
serving_state = Table(
    "serving_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("current_version", Integer, nullable=True),
)
