"""Validation of exported resources against the platforms' own CRD schemas, vendored under
``schemas/`` (sources and versions in ``schemas/README.md``), with no cluster and no network.

The CRDs' OpenAPI v3 schemas are checked as JSON Schema (types, enums, patterns, required
fields, sizes) and, as ``kubectl apply --validate=strict`` does, an unknown field is an
error (an API server would silently prune it: a misspelt ``mirrorPercentage`` would vanish).
Their CEL rules (``x-kubernetes-validations``) need an API server and are not evaluated.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

SCHEMAS_DIR = Path(__file__).parent / "schemas"
SCHEMA_FILES = {
    ("networking.istio.io/v1", "VirtualService"): "virtualservice-v1.json",
    ("networking.istio.io/v1", "DestinationRule"): "destinationrule-v1.json",
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): "httproute-v1.json",
}


def _strict(schema: Any, root: bool = False) -> Any:
    """The schema with unknown fields refused wherever it lists the known ones (below the
    root: Istio's CRDs leave ``apiVersion``, ``kind`` and ``metadata`` to the API server)."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _strict(value) for key, value in schema.items()}
    if (
        not root
        and "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@cache
def _validator(file: str) -> Any:
    schema = _strict(json.loads((SCHEMAS_DIR / file).read_text()), root=True)
    return jsonschema_rs.validator_for(schema)


def schema_errors(document: dict[str, Any]) -> list[str]:
    """Every schema error of one resource (empty: valid); an unknown kind is an error."""
    key = (document.get("apiVersion"), document.get("kind"))
    file = SCHEMA_FILES.get(key)  # type: ignore[arg-type]
    if file is None:
        return [f"no vendored schema for {key[1]} {key[0]}"]
    name = document.get("metadata", {}).get("name", "?")
    return [
        f"{key[1]} {name}: {'/'.join(str(p) for p in error.instance_path) or '(root)'}: "
        f"{error.message}"
        for error in _validator(file).iter_errors(document)
    ]
