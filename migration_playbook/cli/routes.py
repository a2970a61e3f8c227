"""``kit routes``: lint, explain, diff, apply, revert and status of the proxy's route table.

Thin: parsing, one library or admin-API call, rich output. Exit codes: 0 success, 1 the
table or request was rejected, 2 the proxy could not be reached or answered unexpectedly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from strangler_proxy.errors import RouteTableError
from strangler_proxy.matching import Router
from strangler_proxy.route_table import diff_tables, lint_table, load_table

app = typer.Typer(help="Operate the strangler proxy's route table.", no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

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


def _admin(proxy: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=proxy.rstrip("/"), headers=headers, timeout=10.0)


def _call(proxy: str, token: str | None, method: str, path: str, **kwargs: Any) -> Any:
    try:
        with _admin(proxy, token) as client:
            response = client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        err.print(f"[red]cannot reach the proxy at {proxy}: {exc}[/red]")
        raise typer.Exit(2) from None
    if response.status_code >= 400:
        _print_problem(response)
        raise typer.Exit(1 if response.status_code in (401, 403, 409, 422) else 2)
    return response.json()


def _print_problem(response: httpx.Response) -> None:
    try:
        body = response.json()
    except ValueError:
        err.print(f"[red]HTTP {response.status_code}: {response.text[:500]}[/red]")
        return
    err.print(
        f"[red]{body.get('title', 'Error')} ({response.status_code})[/red]: "
        f"{body.get('detail', '')}"
    )
    for item in body.get("errors") or []:
        err.print(f"  [red]-[/red] {item['field']}: {item['message']}")


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
        data: dict[str, Any] = {
            "route": result.route,
            "mode": result.mode,
            "upstreams": result.upstreams,
            "steps": [
                {"route": s.route, "matched": s.matched, "reason": s.reason} for s in result.steps
            ],
        }
    else:
        assert proxy is not None
        data = _call(
            proxy,
            token,
            "GET",
            "/_admin/explain",
            params={"method": method, "path": path, "header": header or []},
        )
    for step in data["steps"]:
        mark = "[green]match[/green]" if step["matched"] else "[dim]skip[/dim] "
        console.print(f"  {mark} {step['route']}: {step['reason']}")
    who = data["route"] or "(no route: default_upstream)"
    ups = ", ".join(f"{k}={v}" for k, v in data["upstreams"].items())
    console.print(f"[bold]{method.upper()} {path}[/bold] -> {who} ({data['mode']}) {ups}")


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
    body = file.read_bytes()
    path = "/_admin/routes/validate" if dry_run else "/_admin/routes"
    data = _call(
        proxy, token, "POST", path, content=body, headers={"Content-Type": "application/yaml"}
    )
    if dry_run:
        console.print(f"[green]valid[/green] ({len(data['warnings'])} warnings)")
        return
    console.print(f"[green]applied[/green] version {data['version']} by {data['applied_by']}")
    for line in data["diff"]:
        console.print(f"  {line}")


@app.command()
def revert(proxy: ProxyUrl, token: Token = None) -> None:
    """Re-apply the version before the live one."""
    data = _call(proxy, token, "POST", "/_admin/routes/revert")
    console.print(
        f"[green]reverted[/green] to the table of version {data['reverted_to']} "
        f"(now version {data['version']})"
    )


@app.command()
def status(proxy: ProxyUrl, token: Token = None) -> None:
    """Live state per route (weights, rollback verdict, shadow results) and per upstream."""
    data = _call(proxy, token, "GET", "/_admin/routes/state")
    console.print(
        f"route table version [bold]{data['version']}[/bold], shadow queue "
        f"{data['shadow_queue_depth']}"
    )
    routes = Table("route", "mode", "primary", "candidate", "weight", "rollback", "shadow")
    for r in data["routes"]:
        weight = ""
        if r.get("configured_weight") is not None:
            weight = f"{r['effective_weight']:g}/{r['configured_weight']:g}"
        rollback = (r.get("rollback") or {}).get("verdict", "")
        colour = {"rolled_back": "red", "insufficient_data": "yellow", "healthy": "green"}
        if rollback in colour:
            rollback = f"[{colour[rollback]}]{rollback}[/{colour[rollback]}]"
        shadow = ""
        if r.get("shadow"):
            s = r["shadow"]
            rate = "n/a" if s["mismatch_rate"] is None else f"{s['mismatch_rate']:.1%}"
            shadow = f"{s['mismatches']}/{s['comparisons']} mismatched ({rate})"
        routes.add_row(
            r["name"], r["mode"], r["primary"], r["candidate"] or "", weight, rollback, shadow
        )
    console.print(routes)
    ups = Table("upstream", "url", "breaker", "retry tokens")
    for u in data["upstreams"]:
        ups.add_row(u["name"], u["url"], u["breaker"], f"{u['retry_tokens']:g}")
    console.print(ups)
