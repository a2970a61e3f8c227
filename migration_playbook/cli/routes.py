"""``kit routes``: lint, explain, diff, apply, revert and status of the proxy's route table,
and its export to a service mesh (Istio, Gateway API).

Thin: parsing, one library or admin-API call, rich output. Exit codes: 0 success, 1 the
table or request was rejected, 2 the proxy could not be reached or answered unexpectedly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from contracts.proxy_admin import AdminError, AdminUnreachable, ProxyAdminClient
from contracts.proxy_admin.models import ACTION_KINDS, ActionOut, ExplainOut, ExplainStepOut
from migration_playbook.mesh import ExportError, ExportOptions, render, schema_errors
from migration_playbook.mesh import golden as mesh_golden
from strangler_proxy.errors import RouteTableError
from strangler_proxy.matching import Router
from strangler_proxy.route_table import diff_tables, lint_table, load_table

app = typer.Typer(help="Operate the strangler proxy's route table.", no_args_is_help=True)
console = Console(highlight=False, emoji=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, emoji=False, soft_wrap=True)

ProxyUrl = Annotated[str, typer.Option("--proxy", help="Base URL of a live proxy.")]
Token = Annotated[
    str | None,
    typer.Option("--token", envvar="KIT_ADMIN_TOKEN", help="Operator JWT (or KIT_ADMIN_TOKEN)."),
]


def _load_or_exit(path: Path) -> Any:
    try:
        return load_table(path)
    except RouteTableError as exc:
        for issue in exc.issues:
            err.print(f"[red]error[/red] {issue}")
        raise typer.Exit(1) from None


def _client(proxy: str, token: str | None) -> ProxyAdminClient:
    return ProxyAdminClient(proxy, token)


@contextmanager
def _admin(proxy: str, token: str | None) -> Iterator[ProxyAdminClient]:
    """The shared admin client; a refusal or no answer becomes a message and an exit code."""
    try:
        with _client(proxy, token) as client:
            yield client
    except AdminUnreachable as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    except AdminError as exc:
        _print_problem(exc)
        raise typer.Exit(1 if exc.refused else 2) from None


def _print_problem(exc: AdminError) -> None:
    problem = exc.problem
    err.print(f"[red]{problem.title or 'Error'} ({exc.status})[/red]: {problem.detail}")
    for item in problem.errors or []:
        err.print(f"  [red]-[/red] {item.field}: {item.message}")


@app.command()
def lint(file: Annotated[Path, typer.Argument(help="Route table YAML.")]) -> None:
    """Validate a table: every error (file, route, field, reason), then the warnings."""
    table = _load_or_exit(file)
    warnings = [i for i in lint_table(table, str(file)) if i.severity == "warning"]
    for issue in warnings:
        console.print(f"[yellow]warning[/yellow] {issue}")
    console.print(
        f"[green]ok[/green] {file}: {len(table.upstreams)} upstreams, "
        f"{len(table.routes)} routes, {len(warnings)} warnings"
    )


@app.command()
def explain(
    method: str,
    path: str,
    header: Annotated[
        list[str] | None, typer.Option("-H", "--header", help="'Name: value'")
    ] = None,
    table_file: Annotated[Path | None, typer.Option("--table")] = None,
    proxy: Annotated[str | None, typer.Option("--proxy")] = None,
    token: Token = None,
) -> None:
    """Which route and upstream would serve METHOD PATH, and why the others did not."""
    if (table_file is None) == (proxy is None):
        err.print("[red]give exactly one of --table FILE or --proxy URL[/red]")
        raise typer.Exit(2)
    if table_file is not None:
        pairs = []
        for item in header or []:
            name, _sep, value = item.partition(":")
            pairs.append((name.strip().lower().encode(), value.strip().encode()))
        target, _q, query = path.partition("?")
        result = Router(_load_or_exit(table_file)).explain(method, target, pairs, query.encode())
        explained = ExplainOut(
            route=result.route,
            mode=result.mode,
            upstreams=result.upstreams,
            steps=[
                ExplainStepOut(route=s.route, matched=s.matched, reason=s.reason)
                for s in result.steps
            ],
        )
    else:
        if proxy is None:  # excluded above; says so to the type checker too
            raise typer.Exit(2)
        with _admin(proxy, token) as admin:
            explained = admin.explain(method, path, header or [])
    for step in explained.steps:
        mark = "[green]match[/green]" if step.matched else "[dim]skip[/dim] "
        console.print(f"  {mark} {step.route}: {step.reason}")
    who = explained.route or "(no route: default_upstream)"
    ups = ", ".join(f"{k}={v}" for k, v in explained.upstreams.items())
    console.print(f"[bold]{method.upper()} {path}[/bold] -> {who} ({explained.mode}) {ups}")


@app.command()
def diff(a: Path, b: Path) -> None:
    """What changes from table A to table B."""
    lines = diff_tables(_load_or_exit(a), _load_or_exit(b))
    colours = {"+": "green", "-": "red", "~": "yellow"}
    for line in lines:
        console.print(f"[{colours[line[0]]}]{line}[/{colours[line[0]]}]")
    if not lines:
        console.print("no differences")


@app.command()
def apply(
    file: Path,
    proxy: ProxyUrl,
    token: Token = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only.")] = False,
) -> None:
    """Validate FILE on the live proxy and apply it (the live table stays on rejection)."""
    _load_or_exit(file)  # fail fast with the local file name in every message
    body = file.read_text()
    with _admin(proxy, token) as admin:
        if dry_run:
            valid = admin.validate(body)
            console.print(f"[green]valid[/green] ({len(valid.warnings)} warnings)")
            return
        applied = admin.apply(body)
    console.print(f"[green]applied[/green] version {applied.version} by {applied.applied_by}")
    for line in applied.diff:
        console.print(f"  {line}")


@app.command()
def revert(proxy: ProxyUrl, token: Token = None) -> None:
    """Re-apply the version before the live one."""
    with _admin(proxy, token) as admin:
        live = admin.revert()
    console.print(
        f"[green]reverted[/green] to the table of version {live.reverted_to} "
        f"(now version {live.version})"
    )


@app.command()
def status(proxy: ProxyUrl, token: Token = None) -> None:
    """Live state per route (weights, rollback verdict, shadow results) and per upstream."""
    with _admin(proxy, token) as admin:
        state = admin.state()
    console.print(
        f"route table version [bold]{state.version}[/bold], shadow queue {state.shadow_queue_depth}"
    )
    routes = Table("route", "mode", "primary", "candidate", "weight", "rollback", "shadow")
    colour = {"rolled_back": "red", "insufficient_data": "yellow", "healthy": "green"}
    for r in state.routes:
        weight = ""
        if r.configured_weight is not None:
            weight = f"{r.effective_weight or 0:g}/{r.configured_weight:g}"
        rollback: str = r.rollback.verdict if r.rollback else ""
        if rollback in colour:
            rollback = f"[{colour[rollback]}]{rollback}[/{colour[rollback]}]"
        shadow = ""
        if r.shadow:
            s = r.shadow
            rate = "n/a" if s.mismatch_rate is None else f"{s.mismatch_rate:.1%}"
            shadow = f"{s.mismatches}/{s.comparisons} mismatched ({rate})"
        routes.add_row(r.name, r.mode, r.primary, r.candidate or "", weight, rollback, shadow)
    console.print(routes)
    ups = Table("upstream", "url", "breaker", "retry tokens")
    for u in state.upstreams:
        ups.add_row(u.name, u.url, u.breaker, f"{u.retry_tokens:g}")
    console.print(ups)


def _action_text(entry: ActionOut) -> str:
    """What one action did, in a line."""
    extra = entry.model_extra or {}
    if entry.kind == "table-applied":
        diff = "; ".join(extra.get("diff") or []) or "no change"
        via = extra.get("origin")
        return f"version {extra.get('version')} via {via}: {diff}"
    if entry.kind == "table-rejected":
        issues = extra.get("issues") or []
        return f"refused ({len(issues)} issue(s)); version {extra.get('live_version')} kept serving"
    if entry.kind == "canary-rolled-back":
        return (
            f"route {extra.get('route')}: {extra.get('threshold')} {extra.get('measured'):.4g} "
            f"over {extra.get('limit'):g}; weight set to 0"
        )
    return f"{extra.get('method')} {extra.get('path')} -> {extra.get('status')}"


@app.command()
def audit(
    proxy: ProxyUrl,
    token: Token = None,
    kind: Annotated[
        str | None,
        typer.Option(help=f"Only one kind: {', '.join(ACTION_KINDS)}."),
    ] = None,
    after: Annotated[int, typer.Option(help="Only entries with a larger id (page on).")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="The newest N.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print the entries as JSON.")] = False,
) -> None:
    """The proxy's action log: who changed the routing, what the rollback guard did, who
    promoted a model (the operator or auditor role)."""
    if kind is not None and kind not in ACTION_KINDS:
        err.print(f"[red]unknown kind {kind!r}[/red]; one of {', '.join(ACTION_KINDS)}")
        raise typer.Exit(2)
    with _admin(proxy, token) as admin:
        entries = admin.actions(kind=kind, after=after, limit=limit)
    if as_json:
        print(json.dumps([e.model_dump(mode="json") for e in entries], indent=2))  # noqa: T201
        return
    if not entries:
        console.print("no action recorded" + (f" of kind {kind}" if kind else ""))
        return
    table = Table("id", "at (UTC)", "kind", "who", "what")
    for entry in entries:
        table.add_row(
            str(entry.id),
            entry.at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.kind,
            entry.actor,
            _action_text(entry),
        )
    console.print(table)


class MeshPlatform(StrEnum):
    istio = "istio"
    gateway_api = "gateway-api"


@app.command()
def export(
    platform: Annotated[MeshPlatform, typer.Argument(help="istio or gateway-api.")],
    file: Annotated[Path, typer.Argument(help="Route table YAML.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here (default: stdout).")
    ] = None,
    name: Annotated[str, typer.Option(help="Name of the resources.")] = "kit-routes",
    namespace: Annotated[str | None, typer.Option(help="Their namespace.")] = None,
    host: Annotated[str, typer.Option(help="The host (Service) clients call.")] = "api",
    host_port: Annotated[int, typer.Option(help="Its port (Gateway API mesh parent).")] = 80,
    gateway: Annotated[
        str | None, typer.Option(help="Bind to this Gateway (default: the mesh itself).")
    ] = None,
    service: Annotated[
        list[str] | None,
        typer.Option(help="UPSTREAM=HOST:PORT, where the table's URL is not the Service."),
    ] = None,
) -> None:
    """Turn a route table into Istio or Gateway API resources; list what they cannot hold.

    What the platform cannot express (response comparison, sticky split, fallback, SLO
    rollback, ...) is printed on stderr and as a comment block in the output.
    """
    table = _load_or_exit(file)
    services = {}
    for item in service or []:
        upstream, sep, target = item.partition("=")
        if not sep or upstream not in table.upstreams:
            err.print(f"[red]--service {item}: give UPSTREAM=HOST:PORT for an upstream[/red]")
            raise typer.Exit(1)
        services[upstream] = target
    options = ExportOptions(
        name=name,
        namespace=namespace,
        host=host,
        host_port=host_port,
        gateway=gateway,
        services=services,
    )
    try:
        result = mesh_golden.EXPORTERS[platform.value](table, options)
    except ExportError as exc:
        err.print(f"[red]error[/red] {exc}")
        raise typer.Exit(1) from None
    problems = [p for document in result.documents for p in schema_errors(document)]
    if problems:  # a bug of the exporter, never of the table: say so loudly
        for problem in problems:
            err.print(f"[red]schema[/red] {problem}")
        raise typer.Exit(2)
    text = render(result)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        console.print(f"[green]wrote[/green] {output}: {len(result.documents)} resources")
    for gap in result.gaps:
        colour = "red" if gap.kind.value == "missing" else "yellow"
        err.print(f"[{colour}]{gap.kind.value}[/{colour}] {gap.route}: {gap.feature}: {gap.detail}")


@app.command("export-phases")
def export_phases(
    check: Annotated[bool, typer.Option("--check", help="Only report drift (exit 1).")] = False,
) -> None:
    """Regenerate the committed exports of every phase's tables (migration_playbook/mesh/golden)."""
    expected = mesh_golden.generated_files()
    if check:
        drift = mesh_golden.stale_files(expected) + mesh_golden.orphan_files(expected)
        for path in drift:
            err.print(f"[red]stale[/red] {path}")
        if drift:
            raise typer.Exit(1)
        console.print(f"[green]ok[/green] {len(expected)} files up to date")
        return
    changed = mesh_golden.write_files(expected)
    console.print(f"{len(changed)} of {len(expected)} files changed")
