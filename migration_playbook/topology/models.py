"""The schema of a topology file: where every process of a migration runs and how to reach it.

A topology is data, like a phase: each process with its command, environment, URL (host and
port, never assumed to be 127.0.0.1), health path and the database URL of each store it
uses. The kit reaches processes only through these URLs and stores only through these
database URLs, so the same phases run on one machine, on several addresses, or (with
another ``platform``) somewhere else. The bundled migration ships as ``bundled.yaml``; a
team adopting the kit writes its own.

String values may use placeholders, filled in when the kit runs the topology:

``{workdir}`` the kit's working folder (absolute); ``{bin}`` the folder of the kit's Python
interpreter (its virtual environment's ``bin``); ``{python}`` that interpreter; ``{code}``
the folder that holds the kit's packages (``/app`` in its container images); ``{host}``,
``{port}`` and ``{bind}`` of the process's own URL; ``{url:NAME}`` the URL of process NAME;
``{store:NAME}`` the database URL of store NAME; ``{amqp_uri}`` the broker;
``{secret:jwt}`` the proxy's token secret (kept in the workdir, never in the file).

Besides the processes, ``kit:`` names the files and the code a migration brings to the
kit (its phase files, load scenarios, pacts, provider states, traffic, pre-steps); every
default is the bundled migration's, so a team's own topology only names what differs.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NAME = re.compile(r"^[a-z][a-z0-9-]*$")
#: Every placeholder a value may hold (see the module docstring).
PLACEHOLDER = re.compile(r"\{([a-z_]+)(?::([a-z][a-z0-9-]*))?\}")
SIMPLE_PLACEHOLDERS = frozenset(
    {"workdir", "bin", "python", "code", "host", "port", "bind", "amqp_uri"}
)
SECRETS = frozenset({"jwt"})
#: A Python object the kit imports: ``package.module:attribute``.
HOOK = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$")


class Platform(StrEnum):
    """Where the processes run. ``local``: children of the kit's supervisor on this machine.
    ``external``: a deployment the kit did not start (a cluster, compose, another team's
    machines): the kit only reaches the processes by their URLs, runs its gates, moves
    traffic through the proxy's admin API, and never starts or stops a process."""

    LOCAL = "local"
    EXTERNAL = "external"


class Capability(StrEnum):
    """A promise a process makes to the kit, checked by ``kit phase lint``.

    ``dry_run``: it honours the dry-run contract (``contracts.dry_run``): a request with
    ``X-Dry-Run: true`` is answered and writes and publishes nothing, so a phase may name
    it a ``dry_run: true`` upstream and shadow non-idempotent requests to it.
    """

    DRY_RUN = "dry_run"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReplicaRecipe(_Strict):
    """How a consumer-only replica of a process runs: more processes on the same queues
    (competing consumers) and the same stores, no port of their own."""

    args: tuple[str, ...] = Field(default=(), description="Appended to the process's command.")
    env: dict[str, str] = Field(default_factory=dict, description="Added to its environment.")


class ProcessDef(_Strict):
    """One process: what runs, where it answers, which stores it uses."""

    description: str = ""
    module: str | None = Field(
        default=None,
        description="Run as `python -m MODULE` with the kit's interpreter (platform local).",
    )
    command: tuple[str, ...] | None = Field(
        default=None, description="Or any command (placeholders allowed)."
    )
    args: tuple[str, ...] = ()
    url: str | None = Field(
        default=None,
        description="Where it answers HTTP: scheme, host and port. None: a worker with no port.",
    )
    bind: str | None = Field(
        default=None, description="The address it listens on (default: the URL's host)."
    )
    health: str | None = Field(
        default="/readyz", description="Readiness path; None: running is ready."
    )
    databases: dict[str, str] = Field(
        default_factory=dict,
        description="Environment variable -> store name, e.g. {DATABASE_URL: monolith}.",
    )
    env: dict[str, str] = Field(default_factory=dict)
    consumer: str | None = Field(
        default=None,
        description="Its name in the event table when it consumes events; its queues are "
        "retired when a phase decommissions it and restored when it runs again.",
    )
    capabilities: frozenset[Capability] = Field(
        default=frozenset(),
        description="What it promises the kit (e.g. dry_run: it honours X-Dry-Run).",
    )
    replicas: int = Field(default=1, ge=1, le=8)
    replica: ReplicaRecipe | None = Field(
        default=None, description="How a consumer-only replica runs; needed for replicas > 1."
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r}: give scheme, host and port, e.g. http://10.0.0.5:8102")
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"{value!r}: {exc}") from None
        if port is None:
            raise ValueError(f"{value!r} has no port")
        if parts.path not in ("", "/"):
            raise ValueError(f"{value!r}: a base URL has no path")
        return value.rstrip("/")

    @field_validator("health")
    @classmethod
    def _health(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError(f"health path {value!r} must start with /")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.module is not None and self.command is not None:
            raise ValueError("give one of module or command, not both")
        if self.command is not None and not self.command:
            raise ValueError("command is empty")
        if self.health is not None and self.url is None:
            raise ValueError("a health path needs a url (or set health: null)")
        if self.replicas > 1 and self.replica is None:
            raise ValueError("replicas > 1 needs a replica recipe (how a consumer-only copy runs)")
        if self.replica is not None and self.consumer is None:
            raise ValueError("only an event consumer can have consumer-only replicas")
        return self

    @property
    def host(self) -> str | None:
        return urlsplit(self.url).hostname if self.url else None

    @property
    def port(self) -> int | None:
        return urlsplit(self.url).port if self.url else None


def _hook(value: str | None) -> str | None:
    if value is not None and not HOOK.match(value):
        raise ValueError(f"{value!r}: name a Python object as package.module:attribute")
    return value


class KitConfig(_Strict):
    """What a migration brings to the kit besides its processes. Relative paths are read
    from the topology file's folder; None (or empty) means the bundled migration's."""

    phases: str | None = Field(default=None, description="The folder of the phase files.")
    loadtests: str | None = Field(
        default=None, description="The folder of the k6 scenarios the load gates name."
    )
    pacts: tuple[str, ...] = Field(
        default=(), description="The HTTP pact files the contracts gates replay."
    )
    pact_provider: str | None = Field(default=None, description="The provider name in those pacts.")
    provider_states: str | None = Field(
        default=None,
        description="package.module:factory; factory(base_url, headers) is a context manager "
        "giving the object that puts the provider into each pact state.",
    )
    traffic: str | None = Field(
        default=None,
        description="package.module:function that sends a step's traffic through the proxy "
        "(the signature of migration_playbook.traffic.drive_sync).",
    )
    actions: dict[str, str] = Field(
        default_factory=dict,
        description="Pre-step name -> package.module:function(ctx, options) -> str, added to "
        "the kit's own pre-steps.",
    )

    @field_validator("provider_states", "traffic")
    @classmethod
    def _hooks(cls, value: str | None) -> str | None:
        return _hook(value)

    @field_validator("actions")
    @classmethod
    def _action_hooks(cls, value: dict[str, str]) -> dict[str, str]:
        for hook in value.values():
            _hook(hook)
        return value

    def relative_to(self, folder: Path) -> KitConfig:
        """The same with every relative path made absolute against ``folder``."""

        def absolute(path: str) -> str:
            return str((folder / path).resolve())

        return self.model_copy(
            update={
                "phases": absolute(self.phases) if self.phases else None,
                "loadtests": absolute(self.loadtests) if self.loadtests else None,
                "pacts": tuple(absolute(p) for p in self.pacts),
            }
        )


class Broker(_Strict):
    amqp_uri: str = "amqp://guest:guest@127.0.0.1:5672/"


class Topology(_Strict):
    """Every process and store of one migration, and the platform they run on."""

    name: str
    description: str = ""
    platform: Platform = Platform.LOCAL
    broker: Broker = Broker()
    stores: dict[str, str] = Field(
        default_factory=dict, description="Store name -> database URL (placeholders allowed)."
    )
    env: dict[str, str] = Field(default_factory=dict, description="Environment every process gets.")
    processes: dict[str, ProcessDef]
    kit: KitConfig = KitConfig()

    @field_validator("processes", "stores")
    @classmethod
    def _names(cls, value: dict[str, object]) -> dict[str, object]:
        bad = [name for name in value if not NAME.match(name)]
        if bad:
            raise ValueError(f"names must be lower-case words with dashes: {', '.join(bad)}")
        return value

    @model_validator(mode="after")
    def _references(self) -> Self:
        issues = self._platform_issues()
        for name, process in self.processes.items():
            issues += [
                f"process {name}: {variable} names unknown store {store!r}"
                for variable, store in process.databases.items()
                if store not in self.stores
            ]
        addresses: dict[tuple[str | None, int | None], str] = {}
        for name, process in self.processes.items():
            if process.url is None:
                continue
            key = (process.bind or process.host, process.port)
            if key in addresses:
                issues.append(
                    f"processes {addresses[key]} and {name} both listen on {key[0]}:{key[1]}"
                )
            addresses[key] = name
        if issues:
            raise ValueError("; ".join(issues))
        return self

    def _platform_issues(self) -> list[str]:
        """``local`` needs a way to run each process; ``external`` runs nothing, so a
        command there would only mislead the reader."""
        if self.platform is Platform.LOCAL:
            return [
                f"process {name}: give module or command (platform local runs it)"
                for name, process in self.processes.items()
                if process.module is None and process.command is None
            ]
        return [
            f"process {name}: platform external runs nothing; remove its module/command"
            for name, process in self.processes.items()
            if process.module is not None or process.command is not None
        ] + [
            f"process {name}: platform external has no consumer-only replicas to start; "
            "scale it on the platform and remove replicas/replica"
            for name, process in self.processes.items()
            if process.replicas > 1 or process.replica is not None
        ]
