"""The RabbitMQ management HTTP API, for what AMQP cannot do: policies, vhosts, connections.

Dead-lettering of *rejected* messages is set by a policy (a queue argument would clash
with nameko's own declaration of the same queue), and policies exist only on this API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx

from eventbus.topology import PolicySpec

DEFAULT_MANAGEMENT_PORT = 15672


class ManagementError(RuntimeError):
    """The management API refused a call or could not be reached."""


def _q(value: str) -> str:
    return quote(value, safe="")


@dataclass(frozen=True)
class Management:
    """A small client of ``http://host:15672/api`` for one vhost."""

    base_url: str
    username: str
    password: str
    vhost: str = "/"
    timeout_s: float = 5.0

    @classmethod
    def from_amqp_uri(cls, amqp_uri: str, port: int = DEFAULT_MANAGEMENT_PORT) -> Management:
        """Same host, user and vhost as the AMQP URI, on the management port."""
        parts = urlsplit(amqp_uri)
        vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
        return cls(
            base_url=f"http://{parts.hostname or '127.0.0.1'}:{port}",
            username=unquote(parts.username or "guest"),
            password=unquote(parts.password or "guest"),
            vhost=vhost,
        )

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        try:
            response = httpx.request(
                method,
                f"{self.base_url}/api/{path}",
                json=json,
                auth=(self.username, self.password),
                timeout=self.timeout_s,
            )
        except httpx.HTTPError as exc:
            raise ManagementError(f"management API at {self.base_url}: {exc}") from exc
        if response.status_code >= 400 and not (method == "DELETE" and response.status_code == 404):
            raise ManagementError(
                f"{method} /api/{path}: HTTP {response.status_code} {response.text[:300]}"
            )
        return response.json() if response.content else None

    def apply_policy(self, policy: PolicySpec) -> None:
        self._call(
            "PUT",
            f"policies/{_q(self.vhost)}/{_q(policy.name)}",
            {
                "pattern": policy.pattern,
                "definition": dict(policy.definition),
                "priority": policy.priority,
                "apply-to": policy.apply_to,
            },
        )

    def delete_policy(self, name: str) -> None:
        """Remove a policy (absent already: nothing to do)."""
        self._call("DELETE", f"policies/{_q(self.vhost)}/{_q(name)}")

    def policies(self) -> list[dict[str, Any]]:
        result = self._call("GET", f"policies/{_q(self.vhost)}")
        return list(result or [])

    def create_vhost(self) -> None:
        self._call("PUT", f"vhosts/{_q(self.vhost)}")
        self._call(
            "PUT",
            f"permissions/{_q(self.vhost)}/{_q(self.username)}",
            {"configure": ".*", "write": ".*", "read": ".*"},
        )

    def delete_vhost(self) -> None:
        self._call("DELETE", f"vhosts/{_q(self.vhost)}")

    def connections(self) -> list[dict[str, Any]]:
        result = self._call("GET", f"vhosts/{_q(self.vhost)}/connections")
        return list(result or [])

    def close_connection(self, name: str) -> None:
        self._call("DELETE", f"connections/{_q(name)}")

    def queue(self, name: str) -> dict[str, Any]:
        result = self._call("GET", f"queues/{_q(self.vhost)}/{_q(name)}")
        return dict(result or {})
