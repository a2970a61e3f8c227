"""The strangler proxy's admin API as a boundary: its models and a typed client."""

from contracts.proxy_admin.client import AdminError, AdminUnreachable, ProxyAdminClient

__all__ = ["AdminError", "AdminUnreachable", "ProxyAdminClient"]
