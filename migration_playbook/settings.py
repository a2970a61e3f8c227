"""The kit's own settings (``KIT_*``): which topology it runs, and where it keeps state.

Where each process runs, on which address, with which stores, lives in the topology file
(``KIT_TOPOLOGY``, by default the bundled migration's), not here.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from migration_playbook.topology import BUNDLED_TOPOLOGY, Topology, load_topology

DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"


class KitSettings(BaseSettings):
    """Configuration of the ``kit`` command and the processes it starts."""

    model_config = SettingsConfigDict(env_prefix="KIT_", extra="ignore")

    workdir: Path = Path("var/kit")
    topology_file: Path = Field(
        default=BUNDLED_TOPOLOGY,
        validation_alias=AliasChoices("KIT_TOPOLOGY", "topology_file"),
        description="The topology file: every process, its URL, command and stores.",
    )
    phases_dir: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("KIT_PHASES_DIR", "phases_dir"),
        description="The phase files' folder; default: the topology's kit.phases, else the "
        "bundled phases.",
    )
    amqp_uri: str | None = Field(
        default=None,
        validation_alias=AliasChoices("KIT_AMQP_URI", "AMQP_URI", "amqp_uri"),
        description="Overrides the topology's broker (e.g. a vhost of one's own).",
    )
    ready_timeout_s: float = 90.0
    latency_slack: float = Field(
        default=1.0,
        ge=1.0,
        le=10.0,
        description="Multiplies the load gates' latency bounds (p(95)<250 at 2 is "
        "p(95)<500) for a rehearsal on a small or shared machine; error-rate bounds stay. "
        "Every gate result it touched says so.",
    )
    reports_dir: Path = Path("reports")

    @property
    def logs(self) -> Path:
        return self.workdir / "logs"

    @property
    def reports(self) -> Path:
        return self.reports_dir

    def topology(self) -> Topology:
        return load_topology(self.topology_file)

    def broker_uri(self, topology: Topology) -> str:
        return self.amqp_uri or topology.broker.amqp_uri

    def jwt_secret(self) -> str:
        """The proxy's HS256 secret for this workdir, created on first use (mode 0600)."""
        path = self.workdir / "jwt-secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()

    def secret(self, name: str) -> str:
        """A secret a topology names (``{secret:jwt}``)."""
        if name == "jwt":
            return self.jwt_secret()
        raise KeyError(name)
