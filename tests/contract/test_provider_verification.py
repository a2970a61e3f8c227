"""Provider side of the HTTP pact: the committed pacts against a real monolith.

The monolith is started as ``python -m legacy_monolith`` on a free port with its own
SQLite database; every provider state is set up through its public API. The same
verification against a monolith with one field renamed must fail with Pact's report.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from contracts import pacts
from contracts.client import ApiClient
from migration_playbook.cli.app import app
from migration_playbook.gates.contracts import VerificationResult, verify_pacts
from migration_playbook.gates.result import Outcome
from tests.contract._wrong_provider import wrong_provider
from tests.contract.conftest import Monolith

AUDIT = "read the audit record of a prediction"


def _committed_descriptions() -> list[str]:
    document = json.loads(pacts.api_pact_path().read_text())
    return [i["description"] for i in document["interactions"]]


def _fresh_descriptions() -> set[str]:
    document = json.loads(pacts.api_pact_path().read_text())
    return {
        i["description"]
        for i in document["interactions"]
        if pacts.FRESH_PROVIDER_STATES & {s["name"] for s in i.get("providerStates", [])}
    }


@pytest.fixture(scope="module")
def monolith(start_monolith: Callable[..., Monolith]) -> Monolith:
    return start_monolith("pact-provider")


@pytest.fixture(scope="module")
def fresh_result(monolith: Monolith) -> VerificationResult:
    """The full verification, run once against the monolith while it is still fresh."""
    return verify_pacts(monolith.url)


def test_every_interaction_verifies_against_a_fresh_monolith(
    fresh_result: VerificationResult,
) -> None:
    assert fresh_result.passed, fresh_result.output
    assert fresh_result.errors == ()
    verified = sorted(i.description for i in fresh_result.interactions)
    assert verified == sorted(_committed_descriptions())
    assert all(i.outcome == "passed" for i in fresh_result.interactions)
    gate = fresh_result.to_gate_result()
    assert gate.outcome is Outcome.PASS and gate.details["counts"]["failed"] == 0


def test_fresh_only_states_fail_honestly_on_a_live_system_unless_excluded(
    fresh_result: VerificationResult, monolith: Monolith
) -> None:
    with ApiClient(monolith.url) as client:
        assert client.current_model().is_current  # a model serves now: a "live" system

    unexcluded = verify_pacts(monolith.url)
    failed = {i.description: i.error for i in unexcluded.interactions if i.outcome == "failed"}
    assert not unexcluded.passed
    assert set(failed) == _fresh_descriptions()
    assert all("needs a provider that never trained" in (e or "") for e in failed.values())

    live = verify_pacts(monolith.url, exclude_states=pacts.FRESH_PROVIDER_STATES)
    assert live.passed, live.output
    excluded = {i.description for i in live.interactions if i.outcome == "excluded"}
    assert excluded == _fresh_descriptions()
    assert live.counts["excluded"] == len(excluded) > 0
    assert list(live.to_gate_result().details["excluded_states"]) == sorted(
        pacts.FRESH_PROVIDER_STATES
    )


def test_a_provider_with_a_renamed_field_fails_with_pacts_mismatch_report(
    fresh_result: VerificationResult, monolith: Monolith
) -> None:
    with wrong_provider(monolith.url) as url:
        result = verify_pacts(url, exclude_states=pacts.FRESH_PROVIDER_STATES)
    assert not result.passed
    failed = [i for i in result.interactions if i.outcome == "failed"]
    assert [i.description for i in failed] == [AUDIT]
    assert "missing the following keys: decision" in (failed[0].error or "")
    assert "Actual map is missing the following keys: decision" in result.output
    gate = result.to_gate_result()
    assert gate.outcome is Outcome.FAIL and AUDIT in gate.summary


def test_unknown_excluded_state_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown provider state"):
        verify_pacts("http://127.0.0.1:9", exclude_states=["a state nobody declared"])


def test_kit_contracts_verify_reports_json_and_exit_codes(
    fresh_result: VerificationResult, monolith: Monolith
) -> None:
    runner = CliRunner()
    ok = runner.invoke(
        app, ["contracts", "verify", "--provider-url", monolith.url, "--live", "--json"]
    )
    assert ok.exit_code == 0, ok.output
    body = json.loads(ok.stdout[ok.stdout.index("{") :])
    assert body["passed"] is True and body["counts"]["excluded"] == len(_fresh_descriptions())
    with wrong_provider(monolith.url) as url:
        bad = runner.invoke(app, ["contracts", "verify", "--provider-url", url, "--live"])
    assert bad.exit_code == 1
    assert AUDIT in bad.output and "FAIL" in bad.output
    unreachable = runner.invoke(
        app, ["contracts", "verify", "--provider-url", "http://127.0.0.1:9"]
    )
    assert unreachable.exit_code == 2
