"""The helpdesk's pre-step (the topology's ``kit.actions``): tickets to read before the
read traffic moves, so a shadow compares answers from the first request."""

from __future__ import annotations

from typing import Any

from examples.helpdesk.api import MAX_LIMIT, TicketIn
from examples.helpdesk.client import HelpdeskClient
from migration_playbook.context import KitContext


def seed_tickets(ctx: KitContext, options: dict[str, Any]) -> str:
    """File tickets through the monolith until it has ``tickets`` (idempotent)."""
    wanted = int(options.get("tickets", 50))
    if not 1 <= wanted <= MAX_LIMIT:
        raise ValueError(f"seed-tickets: tickets must be 1 to {MAX_LIMIT}, not {wanted}")
    with HelpdeskClient(ctx.url("monolith")) as client:
        have = len(client.list(limit=MAX_LIMIT).tickets)
        for index in range(have, wanted):
            client.create(
                TicketIn(
                    customer_id=f"cust-{index % 10}",
                    subject=f"seeded ticket {index}",
                    body="filed before the migration",
                )
            )
    if have >= wanted:
        return f"the monolith has {wanted} tickets or more; none filed"
    return f"filed {wanted - have} tickets; the monolith has {wanted}"
