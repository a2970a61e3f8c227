"""The provider states of the helpdesk pact, set up through the helpdesk's public API.

The kit's contracts gate calls ``helpdesk_states(base_url, headers)`` (the topology's
``kit.provider_states``) and hands each state the pact names to ``setup``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from examples.helpdesk.api import TicketIn
from examples.helpdesk.client import HelpdeskClient, HelpdeskError
from migration_playbook.gates.provider_states import StateUnreachable

TICKET_EXISTS = "a ticket exists"
CUSTOMER_HAS_TICKETS = "a customer has tickets"


class HelpdeskStates:
    """``StateHandler`` for the helpdesk: every state is made by filing tickets."""

    known = frozenset({TICKET_EXISTS, CUSTOMER_HAS_TICKETS})
    #: No state needs a helpdesk that never ran.
    fresh: frozenset[str] = frozenset()

    def __init__(self, client: HelpdeskClient) -> None:
        self._client = client

    def setup(self, state: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
        params = params or {}
        try:
            if state == "":
                return {}
            if state == TICKET_EXISTS:
                ticket = self._client.create(TicketIn.model_validate(params["ticket"]))
                return {"ticket_id": ticket.id}
            if state == CUSTOMER_HAS_TICKETS:
                customer = str(params["customer_id"])
                have = len(self._client.list(customer, limit=100).tickets)
                for index in range(have, int(params.get("count", 2))):
                    self._client.create(
                        TicketIn(customer_id=customer, subject=f"pact ticket {index}")
                    )
                return {}
        except (HelpdeskError, httpx.HTTPError) as exc:
            raise StateUnreachable(f"{state!r}: {exc}") from exc
        raise StateUnreachable(f"no handler for provider state {state!r}")


@contextmanager
def helpdesk_states(base_url: str, headers: Mapping[str, str]) -> Iterator[HelpdeskStates]:
    with HelpdeskClient(base_url, headers=headers) as client:
        yield HelpdeskStates(client)
