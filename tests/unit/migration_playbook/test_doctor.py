"""``kit doctor``: each check's failure provoked for real (an occupied port, a host that does
not resolve, a file or binary that is not there) and its verdict says how to fix it."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migration_playbook.cli.app import app
from migration_playbook.doctor import (
    check_chromium,
    check_disk,
    check_k6,
    check_management,
    check_ports,
    check_postgres,
    check_python,
    check_rabbitmq,
    check_venv,
)
from migration_playbook.topology import load_topology
from migration_playbook.topology.edit import dump_topology, with_changes
from tests.kit_stack import free_port_on, relocated


@pytest.fixture()
def listening() -> Iterator[int]:
    """A port some other program listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def _executable(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def test_python_other_than_3_11_fails_with_the_fix() -> None:
    finding = check_python((3, 10, 12))
    assert not finding.ok
    assert "3.10.12" in finding.detail and "make venv" in finding.fix
    assert check_python((3, 11, 9)).ok


def test_outside_a_venv_or_with_a_missing_package_fails() -> None:
    outside = check_venv(prefix=sys.base_prefix, base_prefix=sys.base_prefix)
    assert not outside.ok and "make venv" in outside.fix
    missing = check_venv(modules=("pika", "no_such_package_for_doctor"))
    assert not missing.ok
    assert "no_such_package_for_doctor" in missing.detail and "pika" not in missing.detail
    assert check_venv(modules=("pika", "typer")).ok


def test_rabbitmq_on_a_host_that_does_not_resolve_or_a_closed_port_fails() -> None:
    nowhere = check_rabbitmq("amqp://guest:guest@rabbit.invalid:5672/", timeout_s=2)
    assert not nowhere.ok
    assert "rabbit.invalid:5672" in nowhere.detail and "make services" in nowhere.fix
    closed = check_rabbitmq(f"amqp://guest:guest@127.0.0.1:{free_port_on('127.0.0.1')}/")
    assert not closed.ok


def test_management_api_not_answering_fails(listening: int) -> None:
    closed = check_management("amqp://guest:guest@127.0.0.1/", port=free_port_on("127.0.0.1"))
    assert not closed.ok and "rabbitmq_management" in closed.fix
    # something listens but never answers HTTP: a timeout, still a failure
    silent = check_management("amqp://guest:guest@127.0.0.1/", port=listening, timeout_s=0.5)
    assert not silent.ok


def test_postgres_without_the_credentials_file_fails(tmp_path: Path) -> None:
    finding = check_postgres(tmp_path / "postgres.env")
    assert not finding.ok
    assert "KIT_POSTGRES_URL" in finding.detail and "make services" in finding.fix


def test_postgres_that_does_not_answer_fails(tmp_path: Path) -> None:
    file = tmp_path / "postgres.env"
    port = free_port_on("127.0.0.1")
    file.write_text(f"KIT_POSTGRES_URL=postgresql://aikit:pw@127.0.0.1:{port}/aikit_demo\n")
    finding = check_postgres(file)
    assert not finding.ok
    assert f"127.0.0.1:{port}/aikit_demo" in finding.detail
    assert "pw" not in finding.detail  # the password is never shown


def test_chromium_absent_fails_present_passes(tmp_path: Path) -> None:
    assert not check_chromium(search_path=str(tmp_path)).ok
    _executable(tmp_path, "chromium", "exit 0")
    assert check_chromium(search_path=str(tmp_path)).ok


def test_k6_absent_or_broken_fails(tmp_path: Path) -> None:
    absent = check_k6(tmp_path)
    assert not absent.ok and "make venv" in absent.fix
    _executable(tmp_path, "k6", "exit 3")
    broken = check_k6(tmp_path)
    assert not broken.ok and "exited 3" in broken.detail


def test_the_venvs_k6_runs() -> None:
    finding = check_k6()
    assert finding.ok, finding
    assert "k6" in finding.detail


def test_an_occupied_kit_port_fails_and_names_the_process(listening: int) -> None:
    topology = with_changes(relocated(), urls={"proxy": f"http://127.0.0.1:{listening}"})
    finding = check_ports(topology)
    assert not finding.ok
    assert f"127.0.0.1:{listening} (proxy" in finding.detail and "kit down" in finding.fix
    assert check_ports(relocated()).ok


def test_too_little_disk_fails(tmp_path: Path) -> None:
    small = check_disk(tmp_path / "not-yet" / "created", min_free_gb=10**9)
    assert not small.ok and str(tmp_path) in small.detail
    assert check_disk(tmp_path, min_free_gb=0).ok


def test_kit_doctor_prints_one_line_per_check_and_exits_1_on_a_failure(
    tmp_path: Path, listening: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    topology = with_changes(load_topology(), urls={"monolith": f"http://127.0.0.1:{listening}"})
    monkeypatch.setenv("KIT_TOPOLOGY", str(dump_topology(topology, tmp_path / "t.yaml")))
    monkeypatch.setenv("KIT_WORKDIR", str(tmp_path / "var"))
    monkeypatch.setenv("AMQP_URI", "amqp://guest:guest@rabbit.invalid:5672/")
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line[:4] in ("OK  ", "FAIL")]
    checks = [line.split()[1] for line in lines]
    assert checks == [
        "python",
        "venv",
        "rabbitmq",
        "rabbitmq-management",
        "postgresql",
        "chromium",
        "k6",
        "ports",
        "disk",
    ]
    assert any(line.startswith("FAIL rabbitmq ") for line in lines)
    assert any(line.startswith("FAIL ports") and "monolith" in line for line in lines)
    assert "fix: `kit down`" in result.output
