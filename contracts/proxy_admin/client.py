"""A typed client of the strangler proxy's admin API (``/_admin``), for the kit and operators.

Every answer is read into the admin API's models (``contracts.proxy_admin.models``); a
refusal raises ``AdminError`` carrying the proxy's problem document, and no answer at all
raises ``AdminUnreachable``. The kit's engine, its gates and ``kit routes`` all use this one
client.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from contracts.problems import Problem
from contracts.proxy_admin.models import (
    ActionOut,
    ExplainOut,
    LiveTableOut,
    MismatchOut,
    RouteStateOut,
    StateOut,
    TableVersionOut,
    ValidationOut,
)

_Model = TypeVar("_Model", bound=BaseModel)
_VERSIONS = TypeAdapter(list[TableVersionOut])
_MISMATCHES = TypeAdapter(list[MismatchOut])
_ACTIONS = TypeAdapter(list[ActionOut])


class AdminError(RuntimeError):
    """The admin API refused a call; ``problem`` is what it answered."""

    def __init__(self, status: int, problem: Problem) -> None:
        errors = "; ".join(f"{e.field}: {e.message}" for e in problem.errors or [])
        detail = problem.detail or problem.title or f"HTTP {status}"
        super().__init__(f"{detail}{' - ' + errors if errors else ''}")
        self.status = status
        self.problem = problem

    @property
    def refused(self) -> bool:
        """The request itself was refused (bad token or table), not the proxy failing."""
        return self.status in (400, 401, 403, 404, 409, 413, 415, 422)


class AdminUnreachable(RuntimeError):
    """No answer from the proxy (refused, timed out), or one that is not the admin API's."""


class ProxyAdminClient:
    """Calls ``/_admin`` of one proxy with an operator token (or none, to be refused)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ProxyAdminClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the route table ---------------------------------------------------------------
    def current(self) -> LiveTableOut:
        """The live table, its version and who applied it."""
        return self._model(LiveTableOut, "GET", "/_admin/routes")

    def apply(self, table_yaml: str) -> LiveTableOut:
        """Validate and apply a table; the live one stays when it is refused."""
        return self._model(LiveTableOut, "POST", "/_admin/routes", **_yaml(table_yaml))

    def validate(self, table_yaml: str) -> ValidationOut:
        """Validate a table without applying it."""
        return self._model(ValidationOut, "POST", "/_admin/routes/validate", **_yaml(table_yaml))

    def revert(self) -> LiveTableOut:
        """Re-apply the version before the live one."""
        return self._model(LiveTableOut, "POST", "/_admin/routes/revert")

    def history(self) -> list[TableVersionOut]:
        return _VERSIONS.validate_python(self._call("GET", "/_admin/routes/history"))

    # -- live state ----------------------------------------------------------------------
    def state(self) -> StateOut:
        """Per route (weights, rollback verdict, shadow results) and per upstream."""
        return self._model(StateOut, "GET", "/_admin/routes/state")

    def route_state(self, name: str) -> RouteStateOut | None:
        return next((route for route in self.state().routes if route.name == name), None)

    def mismatches(self, name: str, limit: int = 20) -> list[MismatchOut]:
        """The newest shadow mismatch samples of a route."""
        data = self._call("GET", f"/_admin/routes/{name}/mismatches", params={"limit": limit})
        return _MISMATCHES.validate_python(data)

    def explain(self, method: str, path: str, headers: Sequence[str] = ()) -> ExplainOut:
        """Which route and upstream would serve METHOD PATH, and why the others did not."""
        params: dict[str, Any] = {"method": method, "path": path, "header": list(headers)}
        return self._model(ExplainOut, "GET", "/_admin/explain", params=params)

    def actions(
        self, *, kind: str | None = None, after: int = 0, limit: int = 100
    ) -> list[ActionOut]:
        """The action log, oldest first (needs the operator or auditor role)."""
        params: dict[str, Any] = {"after": after, "limit": limit}
        if kind is not None:
            params["kind"] = kind
        return _ACTIONS.validate_python(self._call("GET", "/_admin/audit", params=params))

    # -- the wire ------------------------------------------------------------------------
    def _model(self, model: type[_Model], method: str, path: str, **kwargs: Any) -> _Model:
        data = self._call(method, path, **kwargs)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise AdminUnreachable(
                f"{self.base_url}{path} answered a body that is not the admin API's: {exc}"
            ) from None

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise AdminUnreachable(f"cannot reach the proxy at {self.base_url}: {exc}") from None
        if response.status_code >= 400:
            raise AdminError(response.status_code, _problem(response))
        try:
            return response.json()
        except ValueError:
            raise AdminUnreachable(
                f"{self.base_url}{path} answered {response.status_code} without JSON"
            ) from None


def _yaml(text: str) -> dict[str, Any]:
    return {"content": text.encode(), "headers": {"Content-Type": "application/yaml"}}


def _problem(response: httpx.Response) -> Problem:
    try:
        return Problem.model_validate(response.json())
    except (ValueError, ValidationError):
        return Problem(
            title=f"HTTP {response.status_code}",
            status=response.status_code,
            detail=response.text[:300],
        )
