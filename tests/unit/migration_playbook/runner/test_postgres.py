"""The kit's PostgreSQL URL: environment first, then the per-user credentials file."""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_playbook.runner.postgres import credentials_file, kit_postgres_url, read_credentials

DEMO = "postgresql://aikit:0123abcd@127.0.0.1:5432/aikit_demo"
TEST = "postgresql://aikit:0123abcd@127.0.0.1:5432/aikit_test"


@pytest.fixture()
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("KIT_POSTGRES_URL", raising=False)
    return tmp_path


def write_file(config_home: Path) -> Path:
    path = config_home / "ai-migration-kit" / "postgres.env"
    path.parent.mkdir()
    path.write_text(
        f"# written by scripts/ensure_services.sh\nKIT_POSTGRES_URL={DEMO}\n"
        f"TEST_POSTGRES_URL={TEST}\n"
    )
    return path


def test_file_present(config_home: Path) -> None:
    path = write_file(config_home)
    assert credentials_file() == path
    assert kit_postgres_url() == DEMO
    assert read_credentials() == {"KIT_POSTGRES_URL": DEMO, "TEST_POSTGRES_URL": TEST}


def test_file_absent(config_home: Path) -> None:
    assert not credentials_file().exists()
    assert kit_postgres_url() is None
    assert read_credentials() == {}


def test_environment_overrides_the_file(config_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_file(config_home)
    monkeypatch.setenv("KIT_POSTGRES_URL", "postgresql://someone@db.example:5432/kit")
    assert kit_postgres_url() == "postgresql://someone@db.example:5432/kit"


def test_default_location_is_under_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert credentials_file() == tmp_path / ".config" / "ai-migration-kit" / "postgres.env"
