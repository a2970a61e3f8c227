"""Pre-steps a phase file can name: things done before traffic moves.

Each action is a function of the kit context; a phase file refers to it by name, so a
team can reorder or drop them without touching code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from contracts.client import ApiClient, NotFound
from contracts.datagen import TransactionGenerator

if TYPE_CHECKING:
    from migration_playbook.engine import KitContext

Action = Callable[["KitContext", dict[str, Any]], str]


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


ACTIONS: dict[str, Action] = {
    "seed-monolith": seed_monolith,
}
