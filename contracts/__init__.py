"""The single source of truth for everything that crosses a boundary in the kit.

Pydantic models of the public API v1 and of every event, the feature spec (how a
transaction becomes the model's input vector), the shared definitions of decisions,
explanations and drift statistics, and the synthetic data generator. Every deployable may
import this package; it imports none of them (import-linter enforces both).
"""

API_VERSION = "v1"
