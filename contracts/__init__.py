"""The single source of truth for everything that crosses a boundary in the kit.

Pydantic models of the public API v1 and of every event, the OpenAPI document, the pacts,
the typed client and the feature spec (how a transaction becomes the model's input
vector). Every deployable may import this package; it imports none of them (import-linter
enforces both).
"""

API_VERSION = "v1"
