"""The demo: the legacy monolith at work, from an empty database to drift detection.

It starts the monolith on 127.0.0.1 in a fresh folder, posts generated transactions,
trains a model, scores a batch with explanations, shows drift before and after the
generator's drift knob is turned, prints a summary and stops what it started. Later
stages (the migration itself) build on this once their pieces exist.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from contracts.client import ApiClient
from contracts.monitoring import DriftReport
from contracts.predictions import Prediction
from contracts.registry import TrainingRun
from datagen import DRIFT_PRESETS, TransactionGenerator
from migration_playbook.runner.process import ManagedProcess, free_port, port_in_use


@dataclass(frozen=True)
class DemoOptions:
    """Sizes and places; the defaults finish in well under a minute on two cores."""

    workdir: Path = Path("var/demo")
    port: int = 5000
    history: int = 6000
    scored: int = 300
    drifted: int = 600
    batch_size: int = 500


def _start_monolith(options: DemoOptions, console: Console) -> ManagedProcess:
    if options.workdir.exists():
        shutil.rmtree(options.workdir)
    options.workdir.mkdir(parents=True)
    port = options.port if not port_in_use(options.port) else free_port()
    process = ManagedProcess(
        name="legacy-monolith",
        module="legacy_monolith",
        port=port,
        log_path=options.workdir / "logs" / "monolith.log",
        env={
            "DATABASE_URL": f"sqlite:///{(options.workdir / 'monolith.db').resolve()}",
            "MONOLITH_MODEL_DIR": str((options.workdir / "models").resolve()),
        },
    )
    console.print(f"[bold]Starting the legacy monolith[/] on {process.url} ...")
    process.start()
    process.wait_ready(timeout=90)
    console.print(f"  ready (log: {process.log_path})")
    return process


def _ingest(client: ApiClient, options: DemoOptions, console: Console) -> None:
    generator = TransactionGenerator(seed=1)
    columns = (
        TextColumn("  ingesting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("ingest", total=options.history)
        sent = 0
        while sent < options.history:
            batch = generator.generate(min(options.batch_size, options.history - sent))
            client.ingest(batch)
            sent += len(batch)
            progress.update(task, completed=sent)


def _train(client: ApiClient, console: Console) -> TrainingRun:
    with console.status("  training the PyTorch model in the monolith's worker thread"):
        started = client.start_training_run()
        return client.wait_for_training_run(started.run_id, timeout=120)


def _print_decisions(predictions: list[Prediction], console: Console) -> None:
    counts = Counter(p.decision.value for p in predictions)
    console.print(
        "  decisions: "
        + ", ".join(f"{name} {counts.get(name, 0)}" for name in ("approve", "review", "decline"))
    )
    table = Table(title="Riskiest transactions and why", title_justify="left")
    for column in ("transaction", "score", "decision", "top reasons (gradient x input)"):
        table.add_column(column)
    for p in sorted(predictions, key=lambda p: p.score, reverse=True)[:4]:
        reasons = ", ".join(f"{a.feature} {a.attribution:+.2f}" for a in p.explanation[:3])
        table.add_row(p.transaction_id, f"{p.score:.3f}", p.decision.value, reasons)
    console.print(table)


def _print_drift(label: str, report: DriftReport, console: Console) -> None:
    drifted = ", ".join(report.drifted_features) or "none"
    console.print(
        f"  drift over the last {report.window.size} predictions ({label}): "
        f"[bold]{report.status}[/]; drifted features: {drifted}"
    )


def run_demo(options: DemoOptions | None = None, console: Console | None = None) -> None:
    """Run the monolith demo end to end; always stops the monolith."""
    options = options or DemoOptions()
    console = console or Console()
    began = time.monotonic()
    process = _start_monolith(options, console)
    try:
        with ApiClient(process.url, timeout=30) as client:
            console.print(f"[bold]1. Ingest[/] {options.history} generated transactions")
            _ingest(client, options, console)
            console.print("[bold]2. Train[/]")
            run = _train(client, console)
            if run.metrics is None:
                raise RuntimeError(f"training run {run.run_id} {run.status}: {run.error}")
            m = run.metrics
            console.print(
                f"  model v{run.model_version}: ROC AUC {m.roc_auc:.3f}, PR AUC {m.pr_auc:.3f}, "
                f"Brier {m.brier:.4f} on {m.holdout_rows} held-out rows"
            )
            console.print(f"[bold]3. Score[/] {options.scored} new transactions")
            fresh = TransactionGenerator(seed=2, id_prefix="live").generate(options.scored)
            predictions = list(client.score_batch(fresh).predictions)
            _print_decisions(predictions, console)
            record = client.get_prediction(predictions[0].prediction_id)
            console.print(
                f"  audit: {record.prediction_id} is stored with its inputs "
                f"(amount {record.transaction.amount} {record.transaction.currency}) "
                f"and model v{record.model_version}"
            )
            console.print("[bold]4. Monitor drift[/]")
            _print_drift("normal traffic", client.drift_report(window=options.scored), console)
            drifted = TransactionGenerator(
                seed=3, drift=DRIFT_PRESETS["strong"], id_prefix="drift"
            ).generate(options.drifted)
            client.score_batch(drifted)
            _print_drift(
                "after the drift knob", client.drift_report(window=options.drifted), console
            )
    finally:
        code = process.stop()
        console.print(f"Stopped the monolith (exit code {code}).")
    console.print(f"[green]Demo finished in {time.monotonic() - began:.0f}s.[/]")
