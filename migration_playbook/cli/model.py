"""``kit model ...``: move the monolith's model into the MLflow registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from migration_playbook.datamoves.model_export import (
    CHAMPION_ALIAS,
    REGISTERED_MODEL,
    ExportError,
    export_monolith_model,
)

app = typer.Typer(help="Models: export the monolith's model to the MLflow registry.")


@app.callback()
def _group() -> None:
    """Models: export the monolith's model to the MLflow registry."""


_DEFAULT_DB = "sqlite:///var/monolith/monolith.db"
_DEFAULT_MODELS = Path("var/monolith/models")


@app.command("export-monolith")
def export_monolith(
    database_url: Annotated[
        str, typer.Option(envvar="MONOLITH_DATABASE_URL", help="The monolith's database.")
    ] = _DEFAULT_DB,
    model_dir: Annotated[
        Path, typer.Option(envvar="MONOLITH_MODEL_DIR", help="The monolith's model folder.")
    ] = _DEFAULT_MODELS,
    tracking_uri: Annotated[
        str, typer.Option(envvar="MLFLOW_TRACKING_URI", help="The MLflow tracking server.")
    ] = "http://127.0.0.1:5500",
    version: Annotated[
        int | None, typer.Option(help="Monolith model version (default: the serving one).")
    ] = None,
    name: Annotated[str, typer.Option(help="Registered model name.")] = REGISTERED_MODEL,
    alias: Annotated[
        str,
        typer.Option(help="Alias to point at it (left alone when it already names a version)."),
    ] = CHAMPION_ALIAS,
) -> None:
    """Register the monolith's serving model as ``risk-scorer`` and alias it ``champion``."""
    try:
        result = export_monolith_model(
            database_url, model_dir, tracking_uri, version=version, name=name, alias=alias
        )
    except ExportError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    verb = "registered" if result.created else "already registered as"
    typer.echo(
        f"monolith model v{result.monolith_version} {verb} {result.model_uri} "
        f"(run {result.run_id}); alias {result.alias!r} -> version {result.alias_version}"
    )
