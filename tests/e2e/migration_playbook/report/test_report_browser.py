"""The migration report in a real browser: Debian's chromium, headless, with no network.

Chromium renders the fixture report to a PNG and dumps its DOM. Every host name resolves
to NOTFOUND (``--host-resolver-rules``) and the browser's net log is parsed afterwards:
the page itself must request nothing but ``file:``/``about:``/``data:`` URLs, and no
request (not even the browser's own background ones) may get an answer from outside.
A control page with one external image proves the net-log check can fail.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from migration_playbook.report import build_report
from tests.report_fixtures import write_reports

LOCAL_SCHEMES = ("file:", "about:", "data:", "chrome:", "chrome-untrusted:")
ERR_NAME_NOT_RESOLVED = -105
BROWSER_INITIATED = "not an origin"  # the net log's initiator of the browser's own requests
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--disable-features=NetworkTimeServiceQuerying",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]


def _chromium_binary() -> str:
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found is None:
        pytest.fail(
            "chromium is not installed: run scripts/ensure_services.sh (make test does) "
            "or `apt-get install -y chromium`"
        )
    return found


def run_chromium(url: str, work: Path, *extra: str) -> tuple[str, Path]:
    """Run headless chromium once on ``url``; return its stdout and the net-log path."""
    work.mkdir(parents=True, exist_ok=True)
    netlog = work / "netlog.json"
    completed = subprocess.run(
        [
            _chromium_binary(),
            *FLAGS,
            f"--user-data-dir={work / 'profile'}",
            f"--log-net-log={netlog}",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout, netlog


def url_requests(netlog: Path) -> list[dict[str, Any]]:
    """One dict per URL_REQUEST source in the net log: url, initiator, net_error."""
    log = json.loads(netlog.read_text(encoding="utf-8"))
    url_request = log["constants"]["logSourceType"]["URL_REQUEST"]
    sources: dict[int, dict[str, Any]] = defaultdict(dict)
    for event in log["events"]:
        if event["source"]["type"] != url_request:
            continue
        params = event.get("params") or {}
        entry = sources[event["source"]["id"]]
        for key in ("url", "initiator", "net_error"):
            if key in params:
                entry.setdefault(key, params[key])
    return [e for e in sources.values() if "url" in e]


def leaks(netlog: Path) -> list[str]:
    """What the page fetched from a non-local URL, and any request that got an answer."""
    found = []
    for request in url_requests(netlog):
        url = str(request["url"])
        if url.startswith(LOCAL_SCHEMES):
            continue
        if request.get("initiator") != BROWSER_INITIATED:
            found.append(f"the page requested {url}")
        if request.get("net_error") != ERR_NAME_NOT_RESOLVED:
            found.append(f"{url} was not blocked (net_error {request.get('net_error')})")
    return found


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    return build_report(write_reports(root / "reports"), root / "migration-report.html")


def test_page_renders_to_a_real_screenshot(report: Path, tmp_path: Path) -> None:
    png = tmp_path / "report.png"
    _, netlog = run_chromium(
        report.as_uri(), tmp_path / "shot", f"--screenshot={png}", "--window-size=1280,2400"
    )
    assert png.exists() and png.stat().st_size > 50_000
    with Image.open(png) as image:
        assert image.size == (1280, 2400)
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 20) or []
        assert len(colours) > 200, "the screenshot is (nearly) one colour"
        red = sum(n for n, (r, g, b) in colours if r > 180 and g < 80 and b < 80)
        assert red > 500, "no red on the page: the FAIL badge and the rollback must be visible"
    assert leaks(netlog) == []


def test_dom_has_every_phase_and_the_charts(report: Path, tmp_path: Path) -> None:
    dom, netlog = run_chromium(report.as_uri(), tmp_path / "dom", "--dump-dom")
    assert dom.count('data-chart="') == 12
    assert dom.count("<svg") == 12
    for n in (0, 1, 2):
        assert f'id="phase-{n}"' in dom
    assert "Rollback at step canary-50" in dom
    assert "<script" not in dom
    assert leaks(netlog) == []


def test_the_netlog_check_catches_a_page_that_fetches(tmp_path: Path) -> None:
    page = tmp_path / "fetches.html"
    page.write_text('<!doctype html><p>x</p><img src="https://example.invalid/leak.png">')
    _, netlog = run_chromium(page.as_uri(), tmp_path / "control", "--dump-dom")
    assert "the page requested https://example.invalid/leak.png" in leaks(netlog)
