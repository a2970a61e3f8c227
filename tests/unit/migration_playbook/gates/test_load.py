"""The k6 summary is judged with k6's own semantics (passes = failed requests, exit 99)."""

from __future__ import annotations

from migration_playbook.gates.load import judge_summary, with_latency_slack
from migration_playbook.gates.result import Outcome


def _summary(failed: int, total: int, crossed: bool) -> dict[str, object]:
    return {
        "metrics": {
            "http_reqs": {"count": total, "rate": total / 10},
            "http_req_failed": {
                "passes": failed,
                "fails": total - failed,
                "value": failed / total if total else 0,
                "thresholds": {"rate<0.01": crossed},
            },
            "http_req_duration": {"med": 2.0, "p(90)": 4.0, "p(95)": 5.0, "p(99)": 9.0},
            "checks": {"passes": total - failed, "fails": failed},
        }
    }


def test_a_clean_run_passes_and_counts_failed_requests_from_passes() -> None:
    result = judge_summary(_summary(0, 500, False), "t", 0, [], 10.0)
    assert result.outcome is Outcome.PASS
    assert result.details["failed_requests"] == 0 and result.details["p99_ms"] == 9.0


def test_a_crossed_threshold_fails_and_names_it() -> None:
    result = judge_summary(_summary(40, 500, True), "t", 99, [], 10.0)
    assert result.outcome is Outcome.FAIL
    assert "http_req_failed rate<0.01 (measured 0.08)" in result.summary
    assert result.details["failed_requests"] == 40
    assert [m.ok for m in result.measurements] == [False]


def test_no_request_is_insufficient_data_never_a_pass() -> None:
    result = judge_summary(_summary(0, 0, False), "t", 0, [], 1.0)
    assert result.outcome is Outcome.INSUFFICIENT_DATA


def test_a_throwing_script_is_a_failure_never_a_pass(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from migration_playbook.gates.load import run_k6

    script = tmp_path / "broken.js"
    script.write_text(
        "export const options = {vus: 1, iterations: 2};\n"
        "export default function () { throw new Error('scenario bug'); }\n"
    )
    result = run_k6(
        script,
        base_url="http://127.0.0.1:9",
        out_dir=tmp_path,
        label="broken",
        vus=1,
        duration_s=2,
        thresholds={},
    )
    assert result.outcome is Outcome.FAIL
    assert "script error" in result.summary


def test_a_crossed_latency_bound_names_the_measured_figure() -> None:
    summary = _summary(0, 500, False)
    summary["metrics"]["http_req_duration"]["thresholds"] = {"p(95)<4": True}  # type: ignore[index]
    result = judge_summary(summary, "t", 99, [], 10.0)
    assert result.outcome is Outcome.FAIL
    assert "http_req_duration p(95)<4 (measured 5)" in result.summary


def test_latency_slack_widens_latency_bounds_and_keeps_error_bounds() -> None:
    thresholds = {
        "http_req_duration": ["p(95)<250", "p(99) <= 400", "avg>1", "med<100.5"],
        "http_req_failed": ["rate<0.01"],
    }
    assert with_latency_slack(thresholds, 1.0) == thresholds
    assert with_latency_slack(thresholds, 3.0) == {
        "http_req_duration": ["p(95)<750", "p(99)<=1200", "avg>1", "med<301.5"],
        "http_req_failed": ["rate<0.01"],
    }
