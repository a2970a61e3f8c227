"""The helpdesk's public API as types: what the monolith and the extracted service accept
and answer. Both sides serialise with these models, so the same ticket reads the same."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_CONTENT_TYPE = "application/problem+json"
#: At most this many tickets in one listing.
MAX_LIMIT = 100


class TicketIn(BaseModel):
    """A new ticket, as a customer files it."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=5000)


class Ticket(BaseModel):
    """A stored ticket."""

    id: int
    customer_id: str
    subject: str
    body: str
    status: Literal["open", "closed"]
    created_at: str = Field(description="ISO 8601, UTC, as stored.")


class TicketList(BaseModel):
    """Tickets, newest first."""

    tickets: list[Ticket]


def problem(status: int, title: str, detail: str) -> dict[str, object]:
    """An RFC 9457 problem document (both deployables answer errors with it)."""
    slug = title.lower().replace(" ", "-")
    return {
        "type": f"https://helpdesk.example/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
