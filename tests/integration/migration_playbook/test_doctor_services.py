"""``kit doctor`` against this machine's real RabbitMQ and PostgreSQL (``make services``):
the checks pass, and a wrong login fails with the fix."""

from __future__ import annotations

from pathlib import Path

from migration_playbook.doctor import check_management, check_postgres, check_rabbitmq
from migration_playbook.runner.postgres import KIT_URL_VARIABLE, credentials_file, read_credentials
from migration_playbook.settings import DEFAULT_AMQP_URI


def test_the_machines_broker_and_its_management_api_pass() -> None:
    assert check_rabbitmq(DEFAULT_AMQP_URI).ok
    finding = check_management(DEFAULT_AMQP_URI)
    assert finding.ok, finding
    assert "RabbitMQ" in finding.detail


def test_a_wrong_broker_password_fails_as_a_login_problem() -> None:
    wrong = "amqp://guest:not-the-password@127.0.0.1:5672/"
    login = check_rabbitmq(wrong)
    assert not login.ok and "refused the login" in login.detail
    management = check_management(wrong)
    assert not management.ok and "HTTP 401" in management.detail


def test_the_kits_postgres_role_logs_in() -> None:
    finding = check_postgres()
    assert finding.ok, finding


def test_a_database_that_does_not_exist_fails(tmp_path: Path) -> None:
    # (not a wrong password: a machine may trust 127.0.0.1, and then any password logs in)
    url = read_credentials(credentials_file())[KIT_URL_VARIABLE]
    file = tmp_path / "postgres.env"
    file.write_text(f"{KIT_URL_VARIABLE}={url.rsplit('/', 1)[0]}/no_such_kit_database\n")
    finding = check_postgres(file)
    assert not finding.ok
    assert "cannot log in" in finding.detail and "no_such_kit_database" in finding.detail
