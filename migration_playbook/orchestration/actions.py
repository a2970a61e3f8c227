"""Pre-steps a phase file can name: things done before traffic moves.

Each action is a function of the kit context; a phase file refers to it by name, so a
team can reorder or drop them without touching code. A migration adds its own in its
topology (``kit.actions``: name -> ``package.module:function``), with the same signature.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any, cast

from contracts.client import ApiClient, NotFound
from datagen import TransactionGenerator
from migration_playbook.context import KitContext
from migration_playbook.topology import Topology, load_hook

Action = Callable[[KitContext, dict[str, Any]], str]


def seed_monolith(ctx: KitContext, options: dict[str, Any]) -> str:
    """Give the monolith history and a serving model (skipped when one already serves)."""
    rows = int(options.get("rows", 6000))
    with ApiClient(ctx.url("monolith"), timeout=60) as client:
        try:
            current = client.current_model()
            return f"model v{current.version} already serves; nothing to seed"
        except NotFound:
            pass
        generator = TransactionGenerator(seed=int(options.get("seed", 1)), id_prefix="history")
        for start in range(0, rows, 500):
            client.ingest(generator.generate(min(500, rows - start)))
        run = client.wait_for_training_run(client.start_training_run().run_id, timeout=300)
    if run.metrics is None:
        raise RuntimeError(f"training failed: {run.error}")
    auc = run.metrics.roc_auc
    return f"ingested {rows} transactions; model v{run.model_version} ROC AUC {auc:.3f}"


def _monolith_model_dir(ctx: KitContext) -> Path:
    """Where the monolith keeps its model artifacts: its own configuration in the topology."""
    folder = ctx.catalog["monolith"].env.get("MONOLITH_MODEL_DIR")
    if not folder:
        raise RuntimeError(
            "the topology's monolith sets no MONOLITH_MODEL_DIR; the export reads the "
            "monolith's model artifacts from that folder"
        )
    return Path(folder)


def export_monolith_model(ctx: KitContext, options: dict[str, Any]) -> str:
    """Register the monolith's serving model in MLflow as ``risk-scorer@champion``."""
    from migration_playbook.datamoves.model_export import export_monolith_model as export

    log_path = ctx.settings.logs / "kit-actions.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    # MLflow prints progress lines of its own; keep them in the log, not on the console.
    with log_path.open("a") as log, redirect_stdout(log), redirect_stderr(log):
        result = export(
            ctx.store_url(str(options.get("store", "monolith"))),
            _monolith_model_dir(ctx),
            ctx.url("mlflow"),
        )
    target = f"{result.registered_model}/{result.registry_version}"
    if result.created:
        return f"monolith v{result.monolith_version} registered as {target} (alias {result.alias})"
    serving = (
        ""
        if result.alias_version == result.registry_version
        else f"; {result.alias} stays on version {result.alias_version}"
    )
    return f"monolith v{result.monolith_version} already registered as {target}{serving}"


def backfill_audit(ctx: KitContext, options: dict[str, Any]) -> str:
    """Copy the monolith's prediction audit into the inference service (idempotent)."""
    from migration_playbook.datamoves.backfill import backfill_audit as backfill

    report = backfill(
        ctx.store_url(str(options.get("source", "monolith"))),
        ctx.store_url(str(options.get("target", "inference"))),
    )
    if not report.reconciled:
        raise RuntimeError(f"backfill did not reconcile: {report.to_dict()}")
    return f"copied {report.copied} audit records ({report.skipped} already there); reconciled"


ACTIONS: dict[str, Action] = {
    "seed-monolith": seed_monolith,
    "export-monolith-model": export_monolith_model,
    "backfill-audit": backfill_audit,
}


def actions_for(topology: Topology) -> dict[str, Action]:
    """The kit's pre-steps plus the ones the topology adds (``kit.actions``)."""
    own = {name: cast(Action, load_hook(hook)) for name, hook in topology.kit.actions.items()}
    return {**ACTIONS, **own}
