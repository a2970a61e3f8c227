"""The tickets table and the queries on it (SQLAlchemy Core, SQLite or PostgreSQL).

The extracted read service reads the same table while the migration moves the reads: the
first step of taking a service out is moving its reads, before its data.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    select,
    text,
)

from examples.helpdesk.api import Ticket, TicketIn

metadata = MetaData()
tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", String(64), nullable=False, index=True),
    Column("subject", String(200), nullable=False),
    Column("body", String(5000), nullable=False),
    Column("status", String(16), nullable=False),
    # A string, not a timestamp column: every database gives back exactly what was stored.
    Column("created_at", String(40), nullable=False),
)


def make_engine(database_url: str) -> Engine:
    """An engine for the URL; SQLite files get a busy timeout (two processes share one)."""
    if database_url.startswith("sqlite"):
        return create_engine(database_url, connect_args={"timeout": 15})
    return create_engine(database_url, pool_pre_ping=True)


class TicketStore:
    """Tickets in one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_schema(self) -> None:
        metadata.create_all(self.engine)

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def create(self, new: TicketIn) -> Ticket:
        created_at = datetime.now(UTC).isoformat(timespec="microseconds")
        values = {**new.model_dump(), "status": "open", "created_at": created_at}
        with self.engine.begin() as connection:
            key = connection.execute(insert(tickets).values(**values)).inserted_primary_key
        if key is None:  # every supported database returns the new id
            raise RuntimeError("the database returned no id for the new ticket")
        return Ticket(id=int(key[0]), **values)

    def get(self, ticket_id: int) -> Ticket | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(tickets).where(tickets.c.id == ticket_id)).first()
        return Ticket.model_validate(row._asdict()) if row is not None else None

    def list(self, customer_id: str | None, limit: int) -> list[Ticket]:
        query = select(tickets).order_by(tickets.c.id.desc()).limit(limit)
        if customer_id is not None:
            query = query.where(tickets.c.customer_id == customer_id)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [Ticket.model_validate(row._asdict()) for row in rows]
