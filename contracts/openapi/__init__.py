"""The OpenAPI document of the public API v1: the declared operation table, the builder,
and the committed ``v1.yaml`` it generates."""

from pathlib import Path

from contracts.openapi.document import openapi_document, render_yaml
from contracts.openapi.operations import OPERATIONS, Operation

V1_PATH = Path(__file__).with_name("v1.yaml")

__all__ = ["OPERATIONS", "V1_PATH", "Operation", "openapi_document", "render_yaml"]
