"""What an export produces: the platform's resources, and what they could not say.

A route table holds behaviour no mesh resource has (comparing a shadow's answer, rolling a
canary back on its SLO, hashing an account onto one side of a split). An export never drops
such behaviour silently: every loss or approximation is a ``Gap`` in the result, printed
with the resources, so an operator decides whether the kit's proxy must stay the edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from strangler_proxy.route_table.models import RouteTable


class GapKind(StrEnum):
    """``missing``: the platform cannot express it at all; ``approximated``: it expresses
    something close, with the difference stated."""

    MISSING = "missing"
    APPROXIMATED = "approximated"


@dataclass(frozen=True, slots=True)
class Gap:
    route: str
    feature: str
    kind: GapKind
    detail: str

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.route}: {self.feature}: {self.detail}"


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """Names the resources need that a route table does not hold.

    ``host``: the name clients call (the edge's Service); ``gateway``: an Istio Gateway or a
    Gateway API Gateway to bind to (None: the mesh itself, i.e. sidecars, or for Gateway
    API a GAMMA parent Service named ``host``); ``services``: upstream name -> ``host:port``
    of its Service where the table's URL is not the in-cluster address.
    """

    name: str = "kit-routes"
    namespace: str | None = None
    host: str = "api"
    host_port: int = 80
    gateway: str | None = None
    services: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Destination:
    """An upstream as a mesh sees it: a Service host and port."""

    host: str
    port: int


@dataclass(slots=True)
class MeshExport:
    platform: str
    documents: list[dict[str, Any]]
    gaps: list[Gap]


class ExportError(Exception):
    """The table cannot be exported with these options (e.g. an upstream with no Service)."""


def destinations(table: RouteTable, options: ExportOptions) -> dict[str, Destination]:
    """Each upstream's Service: from ``options.services``, else the host and port of its URL.

    An IP address is refused: a mesh routes to Services by name, and an address from a
    machine-local table (``127.0.0.1``) is never what a cluster should call.
    """
    out: dict[str, Destination] = {}
    problems = []
    for name, upstream in table.upstreams.items():
        target = options.services.get(name)
        if target is not None:
            host, _sep, port = target.rpartition(":")
            if not host or not port.isdigit():
                problems.append(f"--service {name}={target}: give HOST:PORT")
                continue
            out[name] = Destination(host, int(port))
            continue
        parts = urlsplit(upstream.url)
        host = parts.hostname or ""
        if not host or host.replace(".", "").isdigit() or ":" in host:
            problems.append(
                f"upstream {name}: {upstream.url} is an address, not a Service name "
                f"(give --service {name}=HOST:PORT)"
            )
            continue
        out[name] = Destination(host, parts.port or (443 if parts.scheme == "https" else 80))
    if problems:
        raise ExportError("; ".join(problems))
    return out


def metadata(name: str, options: ExportOptions) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "labels": {"app.kubernetes.io/managed-by": "ai-migration-kit"},
    }
    if options.namespace:
        meta["namespace"] = options.namespace
    return meta


def protobuf_duration(value: float) -> str:
    """Istio's form of a duration (protobuf ``Duration``: decimal seconds, ``2.5s``), in
    whole milliseconds and at least 1 ms (the CRD's validation rule)."""
    ms = max(1, round(value * 1000))
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms / 1000:g}s"


def gateway_duration(value: float) -> str:
    """Gateway API's form (``^([0-9]{1,5}(h|m|s|ms)){1,4}$``): whole seconds or milliseconds."""
    ms = max(1, round(value * 1000))
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"
