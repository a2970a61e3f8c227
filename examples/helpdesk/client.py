"""The helpdesk's API client, as its web front-end uses it: the consumer of the pact in
``kit/pacts/`` (``tests/contract/examples/helpdesk/`` records it)."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Self

import httpx

from examples.helpdesk.api import Ticket, TicketIn, TicketList


class HelpdeskError(Exception):
    """An answer that is not the one asked for; ``status`` and ``problem`` say which."""

    def __init__(self, status: int, problem: Mapping[str, object]) -> None:
        super().__init__(f"HTTP {status}: {problem.get('detail', problem)}")
        self.status = status
        self.problem = problem


class TicketNotFound(HelpdeskError):
    pass


class HelpdeskClient:
    """A synchronous client of one helpdesk base URL (the monolith, the proxy, a service)."""

    def __init__(
        self, base_url: str, *, headers: Mapping[str, str] | None = None, timeout: float = 10.0
    ) -> None:
        self._http = httpx.Client(base_url=base_url, headers=dict(headers or {}), timeout=timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def create(self, new: TicketIn) -> Ticket:
        return Ticket.model_validate(
            self._check(self._http.post("/api/tickets", json=new.model_dump()))
        )

    def get(self, ticket_id: int) -> Ticket:
        return Ticket.model_validate(self._check(self._http.get(f"/api/tickets/{ticket_id}")))

    def list(self, customer_id: str | None = None, limit: int = 20) -> TicketList:
        params: dict[str, str | int] = {"limit": limit}
        if customer_id is not None:
            params["customer_id"] = customer_id
        return TicketList.model_validate(self._check(self._http.get("/api/tickets", params=params)))

    @staticmethod
    def _check(response: httpx.Response) -> object:
        if response.is_success:
            return response.json()
        try:
            body = response.json()
        except ValueError:
            body = {"detail": response.text[:200]}
        problem = body if isinstance(body, dict) else {"detail": str(body)}
        kind = TicketNotFound if response.status_code == 404 else HelpdeskError
        raise kind(response.status_code, problem)
