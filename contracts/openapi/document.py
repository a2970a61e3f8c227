"""Build the OpenAPI 3.1 document of the public API v1 from the models and the table.

Request bodies use each model's validation schema, responses its serialization schema;
pydantic names the two ``-Input``/``-Output`` only where they differ.
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from contracts import API_VERSION
from contracts.openapi.operations import JSON, OPERATIONS, Operation, Reply

TITLE = "AI migration kit: public API"
_REF = "#/components/schemas/{model}"


def _collect() -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    seen: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
    for op in OPERATIONS:
        if op.body is not None:
            for model in op.body.models:
                seen[(model, "validation")] = None
        for reply in op.replies:
            for model in reply.models:
                seen[(model, "serialization")] = None
    return list(seen)


def _content(schemas: list[dict[str, Any]], content_type: str) -> dict[str, Any]:
    schema = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    return {content_type: {"schema": schema}}


def _reply(reply: Reply, refs: dict[tuple[type[BaseModel], JsonSchemaMode], Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"description": reply.description}
    if reply.headers:
        out["headers"] = {
            name: {"description": text, "required": True, "schema": {"type": "string"}}
            for name, text in reply.headers
        }
    if reply.models:
        schemas = [refs[(m, "serialization")] for m in reply.models]
        out["content"] = _content(schemas, reply.content_type)
    else:
        out["content"] = {reply.content_type: {"schema": {"type": "string"}}}
    return out


def _operation(
    op: Operation, refs: dict[tuple[type[BaseModel], JsonSchemaMode], Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag]}
    if op.params:
        out["parameters"] = [
            {
                "name": p.name,
                "in": p.location,
                "required": p.required,
                "description": p.description,
                "schema": p.schema,
            }
            for p in op.params
        ]
    if op.body is not None:
        schemas = [refs[(m, "validation")] for m in op.body.models]
        out["requestBody"] = {
            "required": op.body.required,
            "description": op.body.description,
            "content": _content(schemas, JSON),
        }
    out["responses"] = {
        str(r.status): _reply(r, refs) for r in sorted(op.replies, key=lambda r: r.status)
    }
    return out


def openapi_document() -> dict[str, Any]:
    """The whole document, as a plain dict (deterministic: same models, same output)."""
    by_key, definitions = models_json_schema(_collect(), ref_template=_REF)
    refs: dict[tuple[type[BaseModel], JsonSchemaMode], Any] = {}
    for (model, mode), ref in by_key.items():
        if isinstance(model, type) and issubclass(model, BaseModel):
            refs[(model, mode)] = ref
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, refs)
    tags = list(dict.fromkeys(op.tag for op in OPERATIONS))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": API_VERSION,
            "description": (
                "Generated from contracts/ by `make contracts`; do not edit by hand. "
                "Errors are RFC 9457 application/problem+json. Within v1 changes are "
                "additive only (contracts/README.md)."
            ),
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "tags": [{"name": t} for t in tags],
        "paths": paths,
        "components": {"schemas": definitions.get("$defs", {})},
    }


class _NoAliasDumper(yaml.SafeDumper):
    """Write repeated schemas out in full: anchors make the document hard to read and diff."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render_yaml(document: dict[str, Any]) -> str:
    """YAML text of a document, stable across runs (key order kept, no line wrapping)."""
    return yaml.dump(
        document, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True, width=10_000
    )
