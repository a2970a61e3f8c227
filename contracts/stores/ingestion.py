"""What the kit reads in the ingestion service's database: the transactions it accepted
(reconciliation against the monolith's)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, MetaData, Numeric, String, Table

metadata = MetaData()

transactions = Table(
    "transactions",
    metadata,
    Column("transaction_id", String(64), primary_key=True),
    Column("amount", Numeric(12, 2, asdecimal=False), nullable=False),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
)
