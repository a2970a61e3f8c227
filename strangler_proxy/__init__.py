"""The strangler proxy: routes the public API between the monolith and extracted services."""
