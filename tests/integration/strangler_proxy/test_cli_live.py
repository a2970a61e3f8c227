"""``kit routes apply/revert/status/explain/audit --proxy`` against a real, running proxy."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from migration_playbook.cli.app import app
from tests.integration.strangler_proxy.conftest import make_token, table_yaml

runner = CliRunner()
CANARY = {
    "name": "predictions",
    "mode": "canary",
    "primary": "monolith",
    "candidate": "inference",
    "weight": 10,
    "sticky_key": "header:X-Account-Id",
    "match": {"path_prefix": "/api/v1/predictions"},
    "rollback": {"min_requests": 50},
}


def test_apply_status_revert(start_proxy, fakes, urls, tmp_path, monkeypatch) -> None:
    proxy = start_proxy(table=table_yaml(urls, [CANARY]))
    token = make_token(["operator"])
    new = tmp_path / "new.yaml"
    new.write_text(table_yaml(urls, [{**CANARY, "weight": 50}]))

    unauthorized = runner.invoke(app, ["routes", "status", "--proxy", proxy.url])
    assert unauthorized.exit_code == 1
    assert "Authentication required (401)" in unauthorized.output

    monkeypatch.setenv("KIT_ADMIN_TOKEN", token)
    monkeypatch.setenv("COLUMNS", "200")
    applied = runner.invoke(app, ["routes", "apply", str(new), "--proxy", proxy.url])
    assert applied.exit_code == 0, applied.output
    assert "applied version 2 by tester" in applied.output
    assert "weight: 10.0 -> 50.0" in applied.output

    status = runner.invoke(app, ["routes", "status", "--proxy", proxy.url])
    assert status.exit_code == 0, status.output
    assert "version 2" in status.output
    assert "50/50" in status.output and "insufficient_data" in status.output

    explained = runner.invoke(
        app, ["routes", "explain", "POST", "/api/v1/predictions", "--proxy", proxy.url]
    )
    assert "-> predictions (canary)" in explained.output

    reverted = runner.invoke(app, ["routes", "revert", "--proxy", proxy.url])
    assert reverted.exit_code == 0
    assert "version 1 (now version 3)" in reverted.output

    bad = tmp_path / "bad.yaml"
    bad.write_text(table_yaml(urls, [{**CANARY, "candidate": "ghost"}]))
    rejected = runner.invoke(app, ["routes", "apply", str(bad), "--proxy", proxy.url])
    assert rejected.exit_code == 1
    assert "unknown upstream 'ghost'" in rejected.output

    # the action log: who did what, as a table and as JSON; an auditor may read it too
    logged = runner.invoke(app, ["routes", "audit", "--proxy", proxy.url])
    assert logged.exit_code == 0, logged.output
    assert "version 2 via admin: ~ route 'predictions': weight: 10.0 -> 50.0" in logged.output
    assert "tester" in logged.output and "via revert" in logged.output
    as_auditor = runner.invoke(
        app,
        ["routes", "audit", "--proxy", proxy.url, "--kind", "table-applied", "--json",
         "--token", make_token(["auditor"])],
    )  # fmt: skip
    assert as_auditor.exit_code == 0, as_auditor.output
    entries = json.loads(as_auditor.output)
    assert [e["version"] for e in entries] == [1, 2, 3]
    assert [e["origin"] for e in entries] == ["startup", "admin", "revert"]
    unknown = runner.invoke(app, ["routes", "audit", "--proxy", proxy.url, "--kind", "x"])
    assert unknown.exit_code == 2 and "table-applied" in unknown.output


def test_unreachable_proxy_exits_two(tmp_path) -> None:
    result = runner.invoke(
        app, ["routes", "revert", "--proxy", "http://127.0.0.1:9", "--token", "x"]
    )
    assert result.exit_code == 2
    assert "cannot reach the proxy" in result.output
