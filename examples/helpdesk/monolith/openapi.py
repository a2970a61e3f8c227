"""The monolith's OpenAPI document, built from the API's models (served at /openapi.json)."""

from __future__ import annotations

from typing import Any

from examples.helpdesk.api import PROBLEM_CONTENT_TYPE, Ticket, TicketIn, TicketList


def _json(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


_PROBLEM = {"description": "A problem document", "content": {PROBLEM_CONTENT_TYPE: {}}}


def openapi_document() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in (TicketIn, Ticket, TicketList):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas |= schema.pop("$defs", {})
        schemas[model.__name__] = schema
    ticket_id = {"name": "ticket_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Helpdesk", "version": "1.0.0"},
        "paths": {
            "/api/tickets": {
                "post": {
                    "summary": "File a ticket",
                    "requestBody": {"required": True, "content": _json("TicketIn")},
                    "responses": {
                        "201": {"description": "Filed", "content": _json("Ticket")},
                        "422": _PROBLEM,
                    },
                },
                "get": {
                    "summary": "List tickets, newest first",
                    "parameters": [
                        {"name": "customer_id", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                        },
                    ],
                    "responses": {
                        "200": {"description": "Tickets", "content": _json("TicketList")},
                        "422": _PROBLEM,
                    },
                },
            },
            "/api/tickets/{ticket_id}": {
                "get": {
                    "summary": "One ticket",
                    "parameters": [ticket_id],
                    "responses": {
                        "200": {"description": "The ticket", "content": _json("Ticket")},
                        "404": _PROBLEM,
                    },
                }
            },
            "/healthz": {"get": {"responses": {"200": {"description": "Alive"}}}},
            "/readyz": {
                "get": {
                    "responses": {"200": {"description": "Database reachable"}, "503": _PROBLEM}
                }
            },
        },
        "components": {"schemas": schemas},
    }
