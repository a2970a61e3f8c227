"""The context every kit command shares: the topology it runs, how to reach each process and
store, the runner of its platform, and the operator token.

It lives below everything that uses it (engine, actions, gates, CLI) and imports none of
them. Build one with ``KitContext.create``; tests pass their own runner or topology.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from contracts.proxy_admin import ProxyAdminClient
from migration_playbook.auth import mint_token
from migration_playbook.phases.loader import loadtests_dir, phases_dir
from migration_playbook.runner import Runner, runner_for
from migration_playbook.runner.catalog import ProcessSpec, process_catalog
from migration_playbook.settings import KitSettings
from migration_playbook.topology import Resolver, Topology, TopologyError

#: How long the kit's own operator token is valid (a full demo fits many times).
TOKEN_TTL_S = 12 * 3600


@dataclass
class KitContext:
    """Everything a command needs to reach the running system."""

    settings: KitSettings
    topology: Topology
    runner: Runner
    resolver: Resolver = field(init=False)
    catalog: dict[str, ProcessSpec] = field(init=False)
    token: str = field(init=False)

    def __post_init__(self) -> None:
        self.resolver = Resolver(
            self.topology,
            self.settings.workdir,
            self.settings.broker_uri(self.topology),
            self.settings.secret,
        )
        self.catalog = process_catalog(self.resolver)
        self.token = mint_token(self.settings.jwt_secret(), ttl_s=TOKEN_TTL_S)

    @classmethod
    def create(
        cls,
        settings: KitSettings | None = None,
        *,
        topology: Topology | None = None,
        runner: Runner | None = None,
    ) -> KitContext:
        """The context of ``settings`` (default: from ``KIT_*``), with its topology file
        and its platform's runner unless given."""
        settings = settings if settings is not None else KitSettings()
        topology = topology if topology is not None else settings.topology()
        if runner is None:
            runner = runner_for(topology, settings.workdir)
        return cls(settings, topology, runner)

    # -- where things are --------------------------------------------------------------
    def url(self, process: str) -> str:
        spec = self.catalog.get(process)
        if spec is None:
            raise TopologyError([f"no process {process!r} in topology {self.topology.name}"])
        if spec.url is None:
            raise TopologyError([f"{process} has no url in topology {self.topology.name}"])
        return spec.url

    def urls(self) -> dict[str, str]:
        return {name: spec.url for name, spec in self.catalog.items() if spec.url}

    def store_url(self, store: str) -> str:
        """The database URL of one store, as the topology gives it."""
        return self.resolver.store_url(store)

    @property
    def amqp_uri(self) -> str:
        return self.resolver.amqp_uri

    # -- what the migration brings (the topology's kit: section) -------------------------
    @property
    def phases_dir(self) -> Path:
        """The folder of this migration's phase files."""
        return phases_dir(self.topology, self.settings.phases_dir)

    @property
    def loadtests_dir(self) -> Path:
        """The folder of this migration's k6 scenarios."""
        return loadtests_dir(self.topology)

    # -- how to talk to them -----------------------------------------------------------
    def admin(self) -> ProxyAdminClient:
        """A client of the proxy's admin API with the kit's operator token."""
        return ProxyAdminClient(self.url("proxy"), self.token)

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    # -- where results go --------------------------------------------------------------
    @property
    def reports(self) -> Path:
        return self.settings.reports

    @property
    def ledger_path(self) -> Path:
        return self.reports / "ledger.jsonl"
