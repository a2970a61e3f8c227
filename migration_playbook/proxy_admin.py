"""The kit's side of the proxy's admin API: operator tokens and a small typed client.

The kit drives every migration step through this API (apply a table, revert, read the
per-route live state), exactly as an operator would with ``kit routes``.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt

DEFAULT_AUDIENCE = "ai-migration-kit"


def mint_token(
    secret: str,
    *,
    roles: tuple[str, ...] = ("operator",),
    subject: str = "kit",
    audience: str = DEFAULT_AUDIENCE,
    ttl_s: int = 3600,
) -> str:
    """An HS256 bearer token the proxy accepts (the kit's own workdir secret)."""
    now = int(time.time())
    claims = {"sub": subject, "aud": audience, "roles": list(roles), "iat": now, "exp": now + ttl_s}
    return jwt.encode(claims, secret, algorithm="HS256")


class AdminError(RuntimeError):
    """The admin API refused a call; ``problem`` is its problem document when it sent one."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        detail = problem.get("detail") or problem.get("title") or f"HTTP {status}"
        errors = "; ".join(
            f"{e.get('field')}: {e.get('message')}" for e in problem.get("errors") or []
        )
        super().__init__(f"{detail}{' - ' + errors if errors else ''}")
        self.status = status
        self.problem = problem


class ProxyAdmin:
    """Calls ``/_admin`` of one proxy with an operator token."""

    def __init__(self, base_url: str, token: str, timeout: float = 10.0) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ProxyAdmin:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"detail": response.text[:300]}
            raise AdminError(response.status_code, problem)
        return response.json()

    def current(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/_admin/routes")
        return result

    def apply(self, table_yaml: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST",
            "/_admin/routes",
            content=table_yaml.encode(),
            headers={"Content-Type": "application/yaml"},
        )
        return result

    def revert(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/_admin/routes/revert")
        return result

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/_admin/routes/state")
        return result

    def route_state(self, name: str) -> dict[str, Any] | None:
        for route in self.state().get("routes", []):
            if route.get("name") == name:
                found: dict[str, Any] = route
                return found
        return None

    def mismatches(self, name: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", f"/_admin/routes/{name}/mismatches")
        return result
