"""Roles at the edge: which token roles may send which request, whatever upstream serves it.

The access policy is a YAML file (``PROXY_ACCESS_POLICY``) apart from the route table on
purpose: the route table changes at every step of a migration, who may call what does
not. Rules are tried in order; the first whose ``match`` fits the request (the same
``match`` as a route's: ``path_prefix`` or ``path``, ``methods``) names the roles of
which the token needs one. A request no rule covers is refused (``otherwise: deny``, the
default) or let through with any valid token (``otherwise: allow``)::

    rules:
      - match: {path: /api/v1/predictions, methods: [POST]}
        roles: [scorer]
    otherwise: deny

The request's path was made canonical before (``paths.py``), so a rule sees the path the
upstream acts on. Without a policy file every valid token may send every request.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from strangler_proxy.errors import Forbidden
from strangler_proxy.matching import CompiledMatch
from strangler_proxy.route_table.models import Match


class AccessRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    match: Match
    roles: tuple[str, ...] = Field(min_length=1, description="The token needs one of them.")
    audit: bool = Field(
        default=False,
        description="Record each answered call in the proxy's action log (who, when, what).",
    )


class AccessPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: tuple[AccessRule, ...] = ()
    otherwise: Literal["deny", "allow"] = "deny"


class PolicyError(ValueError):
    """The policy file cannot be read or is invalid (the proxy refuses to start)."""


def load_policy(path: Path) -> AccessPolicy:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return AccessPolicy.model_validate(data or {})
    except OSError as exc:
        raise PolicyError(f"access policy {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"access policy {path}: not YAML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'policy'}: {e['msg']}" for e in exc.errors()
        )
        raise PolicyError(f"access policy {path}: {problems}") from None


class AccessControl:
    """The compiled policy: :meth:`check` raises ``Forbidden`` or returns."""

    def __init__(self, policy: AccessPolicy) -> None:
        self.policy = policy
        self._rules = tuple(
            (CompiledMatch(rule.match), frozenset(rule.roles), rule.audit) for rule in policy.rules
        )

    def _rule(self, method: str, path: str) -> tuple[frozenset[str] | None, bool]:
        for matcher, roles, audit in self._rules:
            if matcher.matches(method, path, (), b""):
                return roles, audit
        return (None if self.policy.otherwise == "allow" else frozenset()), False

    def required(self, method: str, path: str) -> frozenset[str] | None:
        """The roles of which one is needed, or ``None`` when any valid token will do."""
        return self._rule(method, path)[0]

    def check(self, method: str, path: str, roles: Sequence[str]) -> bool:
        """Raise ``Forbidden``, or return whether the call goes in the action log."""
        needed, audit = self._rule(method, path)
        if needed is None:
            return audit
        if not needed:
            raise Forbidden(f"no access rule lets a token {method} {path}")
        if needed.isdisjoint(roles):
            names = ", ".join(f"'{r}'" for r in sorted(needed))
            raise Forbidden(f"{method} {path} needs one of the roles {names}")
        return audit
