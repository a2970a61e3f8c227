"""The monolith's blueprints: the public API v1 and the operational endpoints."""
