"""What the kit writes and reads in the inference service's database: its prediction audit
(the backfill copies the monolith's decisions there, marked ``origin = 'monolith'``)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Float, MetaData, String, Table

metadata = MetaData()

#: ``origin`` of the rows the backfill copied (the service writes ``service``).
MONOLITH_ORIGIN = "monolith"

prediction_audit = Table(
    "prediction_audit",
    metadata,
    Column("prediction_id", String(64), primary_key=True),
    Column("transaction_id", String(64), nullable=False),
    Column("transaction", JSON, nullable=False),
    Column("features", JSON, nullable=False),
    Column("score", Float, nullable=False),
    Column("decision", String(8), nullable=False),
    Column("model_version", String(32), nullable=False),
    Column("explanation", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("origin", String(16), nullable=False),
)
