"""The headline benchmark: the monolith (phase 0) against the services (phase 5), through the proxy.

One run starts the kit's own stack in a fresh workdir and RabbitMQ vhost, every process as
the kit runs it (audit, outbox, broker, every consumer, MLflow, the training and
monitoring workers), and drives the same k6 scenario (``migration_playbook/loadtests/
public_api.js``) through the strangler proxy:

- phase 0: the proxy in front of the monolith, once per gunicorn worker count (1, 2, 4 by
  default): the baseline is the monolith's best, not a handicapped one;
- phase 5: the proxy in front of the extracted services (the monolith stopped), once per
  inference worker count (1, 2 by default).

For each configuration and scenario (``predictions``: every request scores;
``mixed``: 80 % predictions, 20 % ingestion) it steps an open-model arrival rate up until
p99 passes ``--p99-ms`` (250), errors appear, or k6 cannot reach the offered rate. Each
point prints the achieved rate, p50/p95/p99, errors and the CPU seconds each process spent
per 1,000 requests (read from /proc: every supervised process with its children,
RabbitMQ, and k6 itself). It ends with the ratios phase 5 / phase 0 and the direct
comparison of the monolith and the inference service at 150 predictions/s.

    .venv/bin/python benchmarks/migration_end_to_end.py [--duration 15] [--quick]

Traffic goes to 127.0.0.1 only; every k6 run is bounded in time and rate. Results are
also written as JSON to ``reports/benchmarks/``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from eventbus import Management
from migration_playbook.context import KitContext
from migration_playbook.gates.load import run_k6
from migration_playbook.orchestration.engine import Engine
from migration_playbook.phases.loader import find_phase, render_table, table_text
from migration_playbook.runner.broker import fresh_vhost
from migration_playbook.runner.process import free_port
from migration_playbook.settings import DEFAULT_AMQP_URI, KitSettings
from migration_playbook.topology import Topology, load_topology
from migration_playbook.topology.edit import dump_topology, with_changes

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "migration_playbook" / "loadtests" / "public_api.js"
HZ = os.sysconf("SC_CLK_TCK")
SCENARIOS = {"predictions": 1.0, "mixed": 0.8}
#: The environment variable of each scalable deployable's worker-process count.
WORKERS_ENV = {"monolith": "MONOLITH_WORKERS", "inference": "INFERENCE_WORKERS"}


# -- CPU accounting ---------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, utime + stime + children's) of one process, in clock ticks."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), sum(int(f) for f in fields[11:15])


def _all_stats() -> dict[int, tuple[int, int]]:
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            out[int(entry)] = stat
    return out


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class CpuMeter:
    """CPU ticks per named group: each supervised program with its descendants, RabbitMQ,
    PostgreSQL; k6 (a child of this process) through ``RUSAGE_CHILDREN``."""

    def __init__(self, ctx: KitContext) -> None:
        self.ctx = ctx

    def _groups(self) -> dict[str, set[int]]:
        stats = _all_stats()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _) in stats.items():
            children.setdefault(ppid, []).append(pid)
        groups: dict[str, set[int]] = {}
        for state in self.ctx.runner.states():
            if state.pid is None:
                continue
            members, todo = set(), [state.pid]
            while todo:
                pid = todo.pop()
                if pid not in members:
                    members.add(pid)
                    todo.extend(children.get(pid, []))
            groups[state.name] = members
        for pid in stats:
            command = _cmdline(pid)
            if "beam.smp" in command:
                groups.setdefault("rabbitmq", set()).add(pid)
            elif command.startswith("postgres"):
                groups.setdefault("postgres", set()).add(pid)
        return groups

    def snapshot(self) -> dict[str, float]:
        stats = _all_stats()
        out = {
            name: sum(stats[pid][1] for pid in pids if pid in stats) / HZ
            for name, pids in self._groups().items()
        }
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        out["k6"] = usage.ru_utime + usage.ru_stime
        return out


# -- one measured point -----------------------------------------------------------------


@dataclass
class Point:
    target: str
    scenario: str
    offered_rps: float
    achieved_rps: float
    requests: int
    failed: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cpu_s_per_1000: dict[str, float] = field(default_factory=dict)
    ok: bool = True
    why: str = ""


def measure(
    ctx: KitContext,
    base_url: str,
    target: str,
    scenario: str,
    rate: float,
    duration_s: float,
    p99_limit_ms: float,
    out_dir: Path,
    token: str | None,
) -> Point:
    meter = CpuMeter(ctx)
    before = meter.snapshot()
    result = run_k6(
        SCRIPT,
        base_url=base_url,
        out_dir=out_dir,
        # The label becomes part of k6's transaction ids: letters, digits, "-" and "_" only.
        label=re.sub(r"[^A-Za-z0-9_-]+", "_", f"{target}-{scenario}-{int(rate)}"),
        vus=max(10, int(rate // 10)),
        duration_s=duration_s,
        thresholds={"http_req_failed": ["rate<1"]},
        rate_per_s=rate,
        token=token,
        extra_env={"PREDICT_SHARE": str(SCENARIOS[scenario])},
    )
    after = meter.snapshot()
    details = result.details
    requests = int(details.get("requests") or 0)
    point = Point(
        target=target,
        scenario=scenario,
        offered_rps=rate,
        achieved_rps=float(details.get("rps") or 0.0),
        requests=requests,
        failed=int(details.get("failed_requests") or 0),
        p50_ms=round(float(details.get("p50_ms") or 0.0), 2),
        p95_ms=round(float(details.get("p95_ms") or 0.0), 2),
        p99_ms=round(float(details.get("p99_ms") or 0.0), 2),
    )
    if requests:
        point.cpu_s_per_1000 = {
            name: round((after[name] - before.get(name, 0.0)) * 1000 / requests, 3)
            for name in after
            if after[name] - before.get(name, 0.0) > 0.005
        }
    if not requests:
        point.ok, point.why = False, f"no request completed ({result.summary})"
    elif point.failed > 0.01 * requests:
        point.ok, point.why = False, f"{point.failed} failed requests; {probe(base_url, token)}"
    elif point.p99_ms > p99_limit_ms:
        point.ok, point.why = False, f"p99 {point.p99_ms:.0f} ms > {p99_limit_ms:.0f} ms"
    elif point.achieved_rps < 0.97 * rate:
        point.ok, point.why = False, f"k6 reached only {point.achieved_rps:.0f}/s"
    return point


def probe(base_url: str, token: str | None) -> str:
    """One prediction by hand, to say what a failing point's requests were answered."""
    body = {
        "transaction_id": f"probe-{uuid.uuid4().hex[:8]}",
        "account_id": "acct-00001",
        "amount": 42.5,
        "currency": "EUR",
        "merchant_category": "5411",
        "country": "DE",
        "channel": "pos",
        "timestamp": "2026-01-05T10:15:00+01:00",
    }
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.post(f"{base_url}/api/v1/predictions", json=body, headers=headers)
    except httpx.HTTPError as exc:
        return f"a probe failed: {exc}"
    return f"a probe got HTTP {response.status_code}: {response.text[:200]}"


def show(point: Point) -> None:
    cpu = point.cpu_s_per_1000
    top = sorted(cpu.items(), key=lambda kv: -kv[1])
    cpu_text = ", ".join(f"{name} {value:.2f}" for name, value in top)
    total = sum(cpu.values())
    verdict = "ok  " if point.ok else "FAIL"
    print(
        f"  {verdict} {point.offered_rps:6.0f}/s -> {point.achieved_rps:7.1f}/s  "
        f"p50 {point.p50_ms:7.1f}  p95 {point.p95_ms:7.1f}  p99 {point.p99_ms:7.1f} ms  "
        f"errors {point.failed:4d}  CPU s/1000 req {total:5.2f} [{cpu_text}]"
        + (f"  ({point.why})" if point.why else ""),
        flush=True,
    )


def step(
    ctx: KitContext,
    base_url: str,
    target: str,
    scenario: str,
    rates: list[float],
    args: argparse.Namespace,
    out_dir: Path,
    token: str | None,
) -> list[Point]:
    """Step the offered rate up until a point fails, then halve the gap between the last
    rate that passed and the first that failed ``args.refine`` times (so a coarse step
    does not understate either side); returns every measured point."""
    print(f"{target}, {scenario}:", flush=True)
    points: list[Point] = []

    def run(rate: float) -> Point:
        point = measure(
            ctx, base_url, target, scenario, rate, args.duration, args.p99_ms, out_dir, token
        )
        show(point)
        points.append(point)
        return point

    passed, failed = 0.0, 0.0
    for rate in rates:
        if run(rate).ok:
            passed = rate
        else:
            failed = rate
            break
    for _ in range(args.refine if failed and len(rates) > 1 else 0):
        middle = round((passed + failed) / 2 / 10) * 10
        if middle in (passed, failed):
            break
        if run(middle).ok:
            passed = middle
        else:
            failed = middle
    return points


def sustained(points: list[Point]) -> float:
    """The highest offered rate that passed (0 when none did)."""
    return max((p.offered_rps for p in points if p.ok), default=0.0)


# -- the stack --------------------------------------------------------------------------


@contextmanager
def own_vhost() -> Iterator[str]:
    """A vhost of the run's own with the kit's topology (as the demo's), deleted after."""
    base = os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)
    uri = fresh_vhost(base, f"bench-e2e-{uuid.uuid4().hex[:8]}")
    try:
        yield uri
    finally:
        Management.from_amqp_uri(uri).delete_vhost()


def free_topology() -> Topology:
    """The bundled topology with every process on a free 127.0.0.1 port."""
    topology = load_topology()
    urls = {
        name: f"http://127.0.0.1:{free_port()}"
        for name, process in topology.processes.items()
        if process.url is not None
    }
    return with_changes(topology, urls=urls)


def context(
    workdir: Path, amqp_uri: str, topology: Topology, workers: dict[str, int] | None = None
) -> KitContext:
    """The kit's context for the run, with some deployables' worker counts changed."""
    env = {name: {WORKERS_ENV[name]: str(count)} for name, count in (workers or {}).items()}
    changed = with_changes(topology, env=env)
    settings = KitSettings.model_validate(
        {
            "workdir": workdir / "var",
            "reports_dir": workdir / "reports",
            "amqp_uri": amqp_uri,
            "topology_file": dump_topology(changed, workdir / "topology.yaml"),
        }
    )
    return KitContext.create(settings, topology=changed)


def restart(ctx: KitContext, name: str) -> None:
    """Stop one program and start it again with ``ctx``'s settings (e.g. a worker count)."""
    ctx.runner.stop([name])
    ctx.runner.ensure([ctx.catalog[name]], ctx.settings.ready_timeout_s)


def warm_up(ctx: KitContext, base_url: str, out_dir: Path, token: str | None) -> None:
    run_k6(
        SCRIPT,
        base_url=base_url,
        out_dir=out_dir,
        label="warm-up",
        vus=10,
        duration_s=5,
        thresholds={"http_req_failed": ["rate<1"]},
        rate_per_s=100,
        token=token,
        extra_env={"PREDICT_SHARE": "0.8"},
    )


@dataclass
class Run:
    """One benchmark run: its workdir, ports, vhost and options."""

    workdir: Path
    topology: Topology
    args: argparse.Namespace
    rates: list[float]
    scenarios: list[str]
    amqp_uri: str = ""

    def context(self, **workers: int) -> KitContext:
        return context(self.workdir, self.amqp_uri, self.topology, workers)

    def _step(
        self, ctx: KitContext, url: str, target: str, scenario: str, rates: list[float]
    ) -> list[Point]:
        token = ctx.token if url == ctx.url("proxy") else None
        return step(ctx, url, target, scenario, rates, self.args, self.workdir / "k6", token)

    def phase0(self, worker_counts: list[int], results: dict[str, Any]) -> KitContext:
        """The monolith behind the proxy, per worker count; then the best one direct."""
        best, best_rate = worker_counts[0], -1.0
        for workers in worker_counts:
            ctx = self.context(monolith=workers)
            restart(ctx, "monolith")
            warm_up(ctx, ctx.url("proxy"), self.workdir / "k6", ctx.token)
            key = f"monolith x{workers}"
            results["phase0"][key] = {
                scenario: self._step(ctx, ctx.url("proxy"), key, scenario, self.rates)
                for scenario in self.scenarios
            }
            rate = sustained(results["phase0"][key][self.scenarios[0]])
            if rate > best_rate:
                best, best_rate = workers, rate
        ctx = self.context(monolith=best)
        restart(ctx, "monolith")
        results["direct"]["monolith"] = self._step(
            ctx, ctx.url("monolith"), f"monolith x{best} direct", "predictions", [150.0]
        )
        return ctx

    def phase5(self, worker_counts: list[int], results: dict[str, Any]) -> KitContext:
        """The services behind the proxy, the monolith stopped, per inference worker count."""
        print("phase 5: starting the services (exporting the model to MLflow)...", flush=True)
        ctx = self.context()
        Engine(ctx).up(find_phase(4))
        with ctx.admin() as admin:
            admin.apply(table_text(render_table(find_phase(5), ctx.urls())))
        ctx.runner.stop(["monolith", "legacy-sync", "chaos"])
        for workers in worker_counts:
            ctx = self.context(inference=workers)
            restart(ctx, "inference")
            warm_up(ctx, ctx.url("proxy"), self.workdir / "k6", ctx.token)
            key = f"services, inference x{workers}"
            results["phase5"][key] = {
                scenario: self._step(ctx, ctx.url("proxy"), key, scenario, self.rates)
                for scenario in self.scenarios
            }
        ctx = self.context(inference=1)
        restart(ctx, "inference")
        results["direct"]["inference"] = self._step(
            ctx, ctx.url("inference"), "inference x1 direct", "predictions", [150.0]
        )
        return ctx


# -- the run ----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per point")
    parser.add_argument(
        "--rates",
        default="150,300,450,600,800,1000,1200,1500",
        help="offered rates to step through (req/s)",
    )
    parser.add_argument("--monolith-workers", default="1,2,4")
    parser.add_argument("--inference-workers", default="1,2")
    parser.add_argument("--scenarios", default="predictions,mixed")
    parser.add_argument(
        "--phases", default="0,5", help="which phases to measure (phase 5 always starts from 0)"
    )
    parser.add_argument("--p99-ms", type=float, default=250.0)
    parser.add_argument(
        "--refine", type=int, default=2, help="bisections between the last pass and first fail"
    )
    parser.add_argument("--quick", action="store_true", help="8 s points, 2 worker counts")
    parser.add_argument("--keep", action="store_true", help="keep the workdir for inspection")
    args = parser.parse_args()
    if args.quick:
        args.duration = 8.0
        args.monolith_workers = "2"
        args.inference_workers = "1"
    rates = [float(r) for r in args.rates.split(",")]
    scenarios = [s for s in args.scenarios.split(",") if s]
    for scenario in scenarios:
        if scenario not in SCENARIOS:
            parser.error(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
    monolith_workers = [int(w) for w in args.monolith_workers.split(",")]
    inference_workers = [int(w) for w in args.inference_workers.split(",")]

    workdir = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    run = Run(workdir, free_topology(), args, rates, scenarios)
    started = time.monotonic()
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.machine()}, load average "
        f"{os.getloadavg()[0]:.2f}; workdir {workdir}",
        flush=True,
    )
    results: dict[str, Any] = {"phase0": {}, "phase5": {}, "direct": {}}
    with own_vhost() as amqp_uri:
        run.amqp_uri = amqp_uri
        ctx = run.context()
        try:
            print("phase 0: starting the monolith and the proxy (seeding a model)...", flush=True)
            Engine(ctx).up(find_phase(0))
            if "0" in args.phases:
                ctx = run.phase0(monolith_workers, results)
            if "5" in args.phases:
                ctx = run.phase5(inference_workers, results)
        finally:
            Engine(ctx).down()
    summary = summarise(results, scenarios)
    results["summary"] = summary
    results["machine"] = {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "seconds": round(time.monotonic() - started),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "args": vars(args),
    }
    out = ROOT / "reports" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"migration_end_to_end-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(results, indent=2, default=_jsonable))
    print(f"results: {path} ({round(time.monotonic() - started)} s)")
    if args.keep:
        print(f"workdir kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Point):
        return asdict(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def summarise(results: dict[str, Any], scenarios: list[str]) -> dict[str, Any]:
    """Best sustained rate per phase and scenario, and the ratios the targets name."""
    print("\nsummary (sustained = highest offered rate with p99 within the limit, no errors):")
    summary: dict[str, Any] = {}
    for scenario in scenarios:
        best = {}
        for phase in ("phase0", "phase5"):
            configs = {key: sustained(runs[scenario]) for key, runs in results[phase].items()}
            key, rate = max(configs.items(), key=lambda kv: kv[1]) if configs else ("-", 0.0)
            best[phase] = rate
            print(f"  {scenario:12s} {phase}: {rate:6.0f}/s ({key}); " + ", ".join(
                f"{k} {v:.0f}/s" for k, v in configs.items()
            ))  # fmt: skip
        ratio = best["phase5"] / best["phase0"] if best["phase0"] else float("nan")
        print(f"  {scenario:12s} phase 5 / phase 0 sustained throughput: {ratio:.2f}x")
        summary[scenario] = {**best, "ratio": round(ratio, 2)}
        first = {
            phase: min(
                (runs[scenario][0] for runs in results[phase].values() if runs[scenario]),
                key=lambda p: p.p50_ms,
                default=None,
            )
            for phase in ("phase0", "phase5")
        }
        if first["phase0"] and first["phase5"]:
            p50_ratio = first["phase5"].p50_ms / first["phase0"].p50_ms
            print(
                f"  {scenario:12s} p50 at {first['phase0'].offered_rps:.0f}/s: phase 0 "
                f"{first['phase0'].p50_ms:.1f} ms, phase 5 {first['phase5'].p50_ms:.1f} ms "
                f"({p50_ratio:.2f}x)"
            )
            summary[scenario]["p50_ratio_at_first_rate"] = round(p50_ratio, 2)
    direct = results["direct"]
    if direct.get("monolith") and direct.get("inference"):
        mono, inf = direct["monolith"][0], direct["inference"][0]
        print(
            f"  direct at 150 predictions/s: monolith p50 {mono.p50_ms:.1f} ms, inference "
            f"p50 {inf.p50_ms:.1f} ms ({inf.p50_ms / mono.p50_ms:.2f}x)"
        )
        summary["direct_p50_ratio"] = round(inf.p50_ms / mono.p50_ms, 2)
    return summary


if __name__ == "__main__":
    main()
