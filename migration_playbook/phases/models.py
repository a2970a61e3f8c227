"""The schema of a phase file.

A phase is data: the processes it needs, the steps that run before traffic moves (export
the model, backfill the audit log), the route table it starts from, the traffic steps
(each a patch to that table, some load, and the gates that must pass before the next
step), and the gates that verify the whole phase. A new phase is a new file; a new kind
of check is a new gate kind, not new control flow.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from datagen import DRIFT_PRESETS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrafficSpec(_Strict):
    """Load the kit's traffic generator sends through the proxy during a step."""

    rate_per_s: float = Field(default=40.0, gt=0, le=1000)
    duration_s: float = Field(default=10.0, gt=0, le=600)
    predictions_share: float = Field(default=0.8, ge=0, le=1)
    drift: str = "none"
    seed: int = 100


class RoutePatch(_Strict):
    """A change to one route of the phase's table for one step."""

    route: str
    mode: Literal["passthrough", "shadow", "canary"]
    weight: float | None = Field(default=None, ge=0, le=100)
    primary: str | None = None
    candidate: str | None = None
    read_fallback: str | None = Field(
        default=None,
        description="The upstream a read answered 404 by the primary is asked next (a record "
        "the other side wrote).",
    )


class ContractsGate(_Strict):
    """The public API pacts replayed against live processes of the phase.

    Message pacts are checked where their builders and handlers are code: in
    ``make test`` (tests/contract), before anything is deployed, not against a live broker.
    """

    kind: Literal["contracts"]
    targets: tuple[str, ...] = Field(
        default=("proxy",), description="Process names whose URL is verified against the pacts."
    )
    exclude_states: tuple[str, ...] | None = Field(
        default=None,
        description="Provider states a live, shared system cannot be put into; by default "
        "the states that need a fresh provider (no model yet, not enough data). Excluded "
        "interactions are reported as excluded, never as passed.",
    )


class LoadGate(_Strict):
    kind: Literal["load"]
    script: str = Field(
        description="k6 script in the topology's kit.loadtests folder (default: the bundled "
        "migration_playbook/loadtests/)."
    )
    transactions_data: bool = Field(
        default=True,
        description="Give the script DATA_FILE, transactions from the kit's generator (the "
        "bundled API's); a scenario of another API makes its own requests.",
    )
    target: str = "proxy"
    vus: int = Field(default=10, ge=1, le=200)
    duration_s: float = Field(default=15, gt=0, le=600)
    rate_per_s: float | None = Field(default=None, gt=0, le=2000)
    thresholds: dict[str, list[str]] = Field(default_factory=dict)


class ShadowGate(_Strict):
    kind: Literal["shadow"]
    route: str
    max_mismatch_rate: float = Field(default=0.01, ge=0, le=1)
    min_decision_agreement: float = Field(default=0.99, ge=0, le=1)
    min_samples: int = Field(default=100, ge=1)


class CanaryGate(_Strict):
    kind: Literal["canary"]
    route: str


class ReadBackGate(_Strict):
    """Decisions scored through the proxy read back through it, whichever of ``sides``
    (process names) scored them; each side must have scored at least one."""

    kind: Literal["read-back"]
    sides: tuple[str, ...] = Field(min_length=1)
    samples: int = Field(default=60, ge=1, le=2000)


class ReconciliationGate(_Strict):
    """Two stores agree: ``ingestion`` (every transaction the new store accepted reached the
    old one) or ``audit`` (the backfilled decisions match). Stores are topology names."""

    kind: Literal["reconciliation"]
    check: Literal["ingestion", "audit"]
    source: str = Field(default="monolith", description="The store being replaced.")
    target: str | None = Field(
        default=None, description="The new store (default: ingestion or inference, by check)."
    )
    dlq_empty: bool = True
    settle_s: float = Field(default=15.0, ge=0, le=300)

    @model_validator(mode="after")
    def _default_target(self) -> Self:
        if self.target is None:
            target = "ingestion" if self.check == "ingestion" else "inference"
            object.__setattr__(self, "target", target)
        return self


class ModelGate(_Strict):
    kind: Literal["model"]
    target: str = "proxy"
    holdout_rows: int = Field(default=2000, ge=200, le=20000)
    max_auc_drop: float = Field(default=0.02, ge=0, le=1)
    parity_with: str | None = Field(
        default=None, description="Compare scores with this process (e.g. monolith)."
    )
    parity_rows: int = Field(default=200, ge=1, le=5000)
    parity_tolerance: float = Field(default=1e-6, ge=0)


class PromotionGate(_Strict):
    """Train and promote through ``target``; ``served_by`` must serve it within the budget."""

    kind: Literal["promotion"]
    target: str = "proxy"
    served_by: str = "inference"
    epochs: int = Field(default=4, ge=1, le=50)
    training_timeout_s: float = Field(default=180, gt=0, le=1800)
    max_seconds: float = Field(default=30, gt=0, le=600)


class ClosedLoopGate(_Strict):
    """Drifted traffic must lead to drift -> retraining -> a better model (on a fresh
    hold-out, then in shadow) -> promotion -> hot-swap -> settled; a labelled probe set of
    the drifted traffic must score better after than before."""

    kind: Literal["closed-loop"]
    drift: str = "card-testing"
    rate_per_s: float = Field(default=50, gt=0, le=500)
    predictions_share: float = Field(default=0.4, ge=0, le=1)
    window: int = Field(default=300, ge=50, le=100_000)
    max_seconds: float = Field(default=240, gt=0, le=900)
    seed: int = 4242
    probe_rows: int = Field(default=600, ge=100, le=10_000)
    #: The promoted model's probe ROC AUC must beat the replaced one's by this much.
    min_probe_gain: float = Field(default=0.05, ge=0.0, le=1.0)

    @field_validator("drift")
    @classmethod
    def _known_drift(cls, value: str) -> str:
        if value not in DRIFT_PRESETS:
            raise ValueError(f"unknown drift preset {value!r}; known: {', '.join(DRIFT_PRESETS)}")
        return value


class StoppedGate(_Strict):
    """These processes are stopped and their ports closed (the monolith, decommissioned)."""

    kind: Literal["stopped"]
    processes: tuple[str, ...] = Field(min_length=1)


GateSpec = Annotated[
    StoppedGate
    | ClosedLoopGate
    | ContractsGate
    | LoadGate
    | ShadowGate
    | CanaryGate
    | ReadBackGate
    | ReconciliationGate
    | ModelGate
    | PromotionGate,
    Field(discriminator="kind"),
]


class Step(_Strict):
    """One traffic step: patch the table, send traffic, check the gates."""

    name: str
    set: tuple[RoutePatch, ...] = ()
    traffic: TrafficSpec | None = TrafficSpec()
    gates: tuple[GateSpec, ...] = ()


class PreStep(_Strict):
    """A named action before traffic moves (see ``migration_playbook.orchestration.actions``)."""

    action: str
    needs: tuple[str, ...] = Field(
        default=(), description="Processes started (and ready) before the action runs."
    )
    options: dict[str, Any] = Field(default_factory=dict)


class Phase(_Strict):
    """One phase of the migration: its processes, pre-steps, route table, steps and gates."""

    phase: int = Field(ge=0, le=99)
    name: str
    title: str
    description: str = ""
    processes: tuple[str, ...]
    pre_steps: tuple[PreStep, ...] = ()
    route_table: dict[str, Any] = Field(
        description="A strangler-proxy route table; upstream URLs may use {process} placeholders."
    )
    shadow_defaults: dict[str, Any] = Field(
        default_factory=dict, description="Fields every shadow patch gets (compare, ...)."
    )
    canary_defaults: dict[str, Any] = Field(
        default_factory=dict,
        description="Fields every canary patch gets (sticky_key, rollback, fallback).",
    )
    steps: tuple[Step, ...] = ()
    gates: tuple[GateSpec, ...] = ()

    @field_validator("processes")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("lists a process twice")
        return value
