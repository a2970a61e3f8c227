"""The read service's application factory: the monolith's ticket reads, answered alike
(same bodies, same problem documents), so the proxy can shadow and canary it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException

from examples.helpdesk.api import MAX_LIMIT, PROBLEM_CONTENT_TYPE, Ticket, TicketList, problem
from examples.helpdesk.store import TicketStore, make_engine
from examples.helpdesk.tickets_read.settings import Settings


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def _render(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse(
        problem(status, title, detail), status_code=status, media_type=PROBLEM_CONTENT_TYPE
    )


def _store(request: Request) -> TicketStore:
    store: TicketStore = request.app.state.store
    return store


Store = Annotated[TicketStore, Depends(_store)]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service for ``settings`` (default: from the environment)."""
    settings = settings if settings is not None else Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        app.state.store = TicketStore(engine)
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(title="tickets-read", version="1.0.0", lifespan=lifespan)

    @app.exception_handler(Problem)
    async def _problem(_request: Request, exc: Problem) -> JSONResponse:
        return _render(exc.status, exc.title, exc.detail)

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
        return _render(exc.status_code, str(exc.detail), str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return _render(422, "Invalid query", fields)

    @app.get("/api/tickets/{ticket_id}", response_model=Ticket)
    def get_ticket(ticket_id: str, store: Store) -> Ticket:
        ticket = store.get(int(ticket_id)) if ticket_id.isdigit() else None
        if ticket is None:
            raise Problem(404, "Not Found", f"no ticket {ticket_id}")
        return ticket

    @app.get("/api/tickets", response_model=TicketList)
    def list_tickets(store: Store, customer_id: str | None = None, limit: str = "20") -> TicketList:
        # Checked by hand, as the monolith does, so that both refuse a bad limit alike.
        if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
            raise Problem(422, "Invalid query", f"limit must be an integer from 1 to {MAX_LIMIT}")
        return TicketList(tickets=store.list(customer_id, int(limit)))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz(store: Store) -> dict[str, str]:
        try:
            store.ping()
            store.list(None, 1)  # the monolith's table exists (the monolith made it)
        except SQLAlchemyError as exc:
            raise Problem(
                503, "Not ready", f"tickets table unreadable: {type(exc).__name__}"
            ) from None
        return {"status": "ready"}

    return app
