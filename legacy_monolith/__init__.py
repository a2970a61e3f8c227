"""The legacy AI monolith: one Flask process, one database, everything coupled."""

from legacy_monolith.app import create_app

__all__ = ["create_app"]
