"""``kit contracts``: verify the pacts against any provider URL, check compatibility.

Exit codes: 0 the check passed, 1 it failed (a mismatch or a breaking change), 2 it could
not run (bad arguments, provider unreachable).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, cast

import httpx
import typer
from rich.console import Console
from rich.table import Table

from contracts import pacts
from contracts.compat import check_generated
from migration_playbook.gates.contracts import verify_pacts
from migration_playbook.gates.provider_states import StatesFactory
from migration_playbook.settings import KitSettings
from migration_playbook.topology import HookError, TopologyError, load_hook

app = typer.Typer(
    help="Contracts: Pact verification and the compatibility check.", no_args_is_help=True
)
console = Console(highlight=False, emoji=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, emoji=False, soft_wrap=True)

_COLOUR = {"passed": "green", "failed": "red", "excluded": "yellow"}


@app.command()
def verify(
    provider_url: Annotated[str, typer.Option("--provider-url", help="Base URL of the provider.")],
    exclude_state: Annotated[
        list[str] | None,
        typer.Option("--exclude-state", help="Do not replay interactions in this state."),
    ] = None,
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="A live, shared system: exclude the states only a fresh provider can be in "
            f"({', '.join(sorted(pacts.FRESH_PROVIDER_STATES))}).",
        ),
    ] = False,
    pact_file: Annotated[
        list[Path] | None, typer.Option("--pact", help="Pact file(s); default: the committed.")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="KIT_API_TOKEN", help="Bearer token for the API."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Replay the public-API pacts against PROVIDER_URL (monolith, proxy or a service);
    with ``KIT_TOPOLOGY``, that migration's pacts and provider states (its ``kit:``)."""
    try:
        kit = KitSettings().topology().kit
        states = (
            cast(StatesFactory, load_hook(kit.provider_states)) if kit.provider_states else None
        )
    except (TopologyError, HookError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    files = pact_file or [Path(p) for p in kit.pacts] or None
    try:
        httpx.get(f"{provider_url.rstrip('/')}/healthz", timeout=5.0)
    except httpx.HTTPError as exc:
        err.print(f"[red]cannot reach the provider at {provider_url}: {exc}[/red]")
        raise typer.Exit(2) from None
    headers = {"Authorization": f"Bearer {token}"} if token else None
    try:
        result = verify_pacts(
            provider_url,
            pact_files=files,
            provider=kit.pact_provider or pacts.API_PROVIDER,
            exclude_states=exclude_state or (),
            exclude_fresh=live,
            headers=headers,
            states=states,
        )
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        table = Table(title=f"pacts against {result.provider_url}")
        table.add_column("interaction")
        table.add_column("states")
        table.add_column("outcome")
        table.add_column("mismatch")
        for item in result.interactions:
            colour = _COLOUR[item.outcome]
            table.add_row(
                item.description,
                ", ".join(item.states),
                f"[{colour}]{item.outcome}[/{colour}]",
                item.error or "",
            )
        console.print(table)
        for error in result.errors:
            err.print(f"[red]error[/red] {error}")
        counts = result.counts
        verdict = "[green]PASS[/green]" if result.passed else "[red]FAIL[/red]"
        console.print(
            f"{verdict} {counts['passed']} passed, {counts['failed']} failed, "
            f"{counts['excluded']} excluded in {result.duration_s:.1f}s"
        )
        if not result.passed:
            console.print(result.output[result.output.find("Failures:") :])
    raise typer.Exit(0 if result.passed else 1)


@app.command()
def compat(
    rev: Annotated[str, typer.Option("--rev", help="Git revision of the baseline.")] = "HEAD",
    openapi: Annotated[
        Path | None, typer.Option("--openapi", help="Baseline OpenAPI file instead of git.")
    ] = None,
    events: Annotated[
        Path | None, typer.Option("--events", help="Baseline folder of event schemas.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Fail on a breaking change from the baseline to what the models generate now."""
    for given in (openapi, events):
        if given is not None and not given.exists():
            err.print(f"[red]{given} does not exist[/red]")
            raise typer.Exit(2)
    report = check_generated(rev=rev, openapi_baseline=openapi, events_baseline=events)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for change in report.breaking:
            console.print(f"[red]breaking[/red] {change}")
        verdict = "[green]compatible[/green]" if report.ok else "[red]BREAKING[/red]"
        console.print(
            f"{verdict}: {len(report.compared)} document(s) compared with {report.baseline}"
            + (
                ""
                if report.ok
                else "; within v1 only additive changes are allowed (contracts/README.md)"
            )
        )
    raise typer.Exit(0 if report.ok else 1)
