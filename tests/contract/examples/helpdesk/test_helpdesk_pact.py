"""Consumer side of the helpdesk's pact: its web client against Pact's mock provider.

What the helpdesk team writes so the kit's contracts gate can replay its API against the
monolith, the proxy and the extracted service (``examples/helpdesk/kit/pacts/``). The
last test compares the committed pact with what these tests record
(``CONTRACTS_UPDATE_PACTS=1`` refreshes it).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pact import Pact, generate, match

from examples.helpdesk.api import TicketIn
from examples.helpdesk.client import HelpdeskClient, TicketNotFound
from examples.helpdesk.kit.states import CUSTOMER_HAS_TICKETS, TICKET_EXISTS
from tests.contract.conftest import PASSED

CONSUMER, PROVIDER = "helpdesk-web", "helpdesk-api"
COMMITTED = (
    Path(__file__).resolve().parents[4]
    / "examples/helpdesk/kit/pacts"
    / f"{CONSUMER}-{PROVIDER}.json"
)
UPDATE_ENV = "CONTRACTS_UPDATE_PACTS"
_PREFIX = "test_interaction_"
_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"


def _ticket(**fixed: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": match.int(7),
        "customer_id": match.str("cust-pact"),
        "subject": match.str("printer on fire"),
        "body": match.str("again"),
        "status": match.regex("open", regex="^(open|closed)$"),
        "created_at": match.regex("2026-11-25T10:15:00.123456+00:00", regex=_TIME),
    }
    return body | fixed


def _problem(status: int) -> dict[str, Any]:
    return {
        "type": match.str("https://helpdesk.example/problems/not-found"),
        "title": match.str("Not Found"),
        "status": status,
        "detail": match.str("what went wrong"),
    }


@pytest.fixture(scope="module")
def recorded_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("helpdesk-pacts")


@pytest.fixture
def pact(recorded_dir: Path) -> Iterator[Pact]:
    new = Pact(CONSUMER, PROVIDER).with_specification("V4")
    yield new
    new.write_file(recorded_dir)


def _serve(pact: Pact) -> Any:
    return pact.serve(addr="127.0.0.1", verbose=False)


def test_interaction_file_a_ticket(pact: Pact) -> None:
    new = TicketIn(customer_id="cust-pact", subject="printer on fire", body="again")
    (
        pact.upon_receiving("file a ticket")
        .with_request("POST", "/api/tickets")
        .with_body(new.model_dump(), content_type="application/json")
        .will_respond_with(201)
        .with_body(
            _ticket(customer_id="cust-pact", subject="printer on fire", body="again"),
            content_type="application/json",
        )
    )
    with _serve(pact) as srv, HelpdeskClient(str(srv.url)) as client:
        ticket = client.create(new)
    assert ticket.status == "open" and ticket.customer_id == "cust-pact"


def test_interaction_file_an_invalid_ticket(pact: Pact) -> None:
    (
        pact.upon_receiving("file a ticket without a subject")
        .with_request("POST", "/api/tickets")
        .with_body({"customer_id": "cust-pact"}, content_type="application/json")
        .will_respond_with(422)
        .with_header("Content-Type", "application/problem+json")
        .with_body(_problem(422))
    )
    # The typed client cannot build this request (TicketIn refuses it): a raw one does.
    with _serve(pact) as srv:
        response = httpx.post(f"{srv.url}/api/tickets", json={"customer_id": "cust-pact"})
    assert response.status_code == 422
    assert response.json()["status"] == 422


def test_interaction_read_a_ticket(pact: Pact) -> None:
    stored = {"customer_id": "cust-pact-read", "subject": "no sound", "body": ""}
    (
        pact.upon_receiving("read a ticket")
        .given(TICKET_EXISTS, ticket=stored)
        .with_request(
            "GET",
            match.like(
                "/api/tickets/7", generator=generate.provider_state("/api/tickets/${ticket_id}")
            ),
        )
        .will_respond_with(200)
        .with_body(
            _ticket(
                id=match.like(7, generator=generate.provider_state("${ticket_id}")),
                customer_id="cust-pact-read",
                subject="no sound",
                body="",
            ),
            content_type="application/json",
        )
    )
    with _serve(pact) as srv, HelpdeskClient(str(srv.url)) as client:
        ticket = client.get(7)
    assert ticket.id == 7 and ticket.subject == "no sound"


def test_interaction_read_a_missing_ticket(pact: Pact) -> None:
    (
        pact.upon_receiving("read a ticket that does not exist")
        .with_request("GET", "/api/tickets/987654321")
        .will_respond_with(404)
        .with_header("Content-Type", "application/problem+json")
        .with_body(_problem(404))
    )
    with _serve(pact) as srv, HelpdeskClient(str(srv.url)) as client:
        with pytest.raises(TicketNotFound):
            client.get(987654321)


def test_interaction_list_a_customers_tickets(pact: Pact) -> None:
    (
        pact.upon_receiving("list a customer's tickets")
        .given(CUSTOMER_HAS_TICKETS, customer_id="cust-pact-list", count=2)
        .with_request("GET", "/api/tickets")
        .with_query_parameters({"customer_id": "cust-pact-list", "limit": "10"})
        .will_respond_with(200)
        .with_body(
            {"tickets": match.each_like(_ticket(customer_id="cust-pact-list"), min=2)},
            content_type="application/json",
        )
    )
    with _serve(pact) as srv, HelpdeskClient(str(srv.url)) as client:
        listing = client.list("cust-pact-list", limit=10)
    assert listing.tickets  # the mock answers with one example; the pact asks for two
    assert {t.customer_id for t in listing.tickets} == {"cust-pact-list"}


def _interactions(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text(encoding="utf-8"))
    return {i["description"]: i for i in document["interactions"]}


def test_committed_pact_is_what_the_consumer_tests_record(
    recorded_dir: Path, request: pytest.FixtureRequest
) -> None:
    module = request.node.module
    expected = [
        item
        for item in request.session.items
        if getattr(item, "module", None) is module and item.name.startswith(_PREFIX)
    ]
    if len(expected) != len([n for n in dir(module) if n.startswith(_PREFIX)]):
        pytest.skip("the pact comparison needs every interaction test of this module selected")
    failed = [item.name for item in expected if not item.stash.get(PASSED, False)]
    assert not failed, f"cannot compare the pact: interaction tests failed: {', '.join(failed)}"
    recorded = recorded_dir / COMMITTED.name
    if os.environ.get(UPDATE_ENV) == "1":
        shutil.copyfile(recorded, COMMITTED)
    assert COMMITTED.exists(), f"{COMMITTED} is missing: run with {UPDATE_ENV}=1"
    assert _interactions(recorded) == _interactions(COMMITTED), (
        f"the committed helpdesk pact differs from the consumer tests: run with {UPDATE_ENV}=1"
    )
