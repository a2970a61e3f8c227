"""Where the kit finds its own PostgreSQL: ``KIT_POSTGRES_URL``, else the credentials file.

Why a file: a fresh Debian machine's PostgreSQL asks for a password (scram-sha-256) on
127.0.0.1, so logging in as ``postgres`` without one works only where someone set up trust
auth. The kit never weakens the machine's authentication; instead ``make services``
(``scripts/ensure_services.sh``) creates the kit's own role ``aikit`` with a random password
and its databases (``aikit_demo``, ``aikit_test``), and writes their URLs to a per-user file
outside the repository, mode 0600: ``${XDG_CONFIG_HOME:-~/.config}/ai-migration-kit/postgres.env``.
Per user, not per clone, so that several clones on one machine share one password instead
of rotating each other's.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

KIT_URL_VARIABLE = "KIT_POSTGRES_URL"
TEST_URL_VARIABLE = "TEST_POSTGRES_URL"


def credentials_file() -> Path:
    """The per-user credentials file that ``scripts/ensure_services.sh`` writes."""
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "ai-migration-kit" / "postgres.env"


def read_credentials(path: Path | None = None) -> dict[str, str]:
    """The ``NAME=value`` lines of the credentials file (empty when there is no file)."""
    try:
        text = (path or credentials_file()).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def kit_postgres_url() -> str | None:
    """The kit's PostgreSQL URL: ``KIT_POSTGRES_URL`` if set, else the credentials file's.

    ``None`` when neither has one (``make services`` has not run on this machine).
    """
    from_env = os.environ.get(KIT_URL_VARIABLE)
    if from_env:
        return from_env
    return read_credentials().get(KIT_URL_VARIABLE) or None


def _libpq(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def fresh_databases(base_url: str, names: Iterable[str], prefix: str) -> dict[str, str]:
    """Recreate one empty database per name (``<prefix>_<name>``) on the server of
    ``base_url`` (its role needs CREATEDB, as the kit's own has); name -> URL.

    Whatever an earlier run left there is dropped first, connections and all.
    """
    import psycopg

    parts = urlsplit(_libpq(base_url))
    urls = {}
    with psycopg.connect(_libpq(base_url), autocommit=True, connect_timeout=5) as admin:
        for name in names:
            database = f"{prefix}_{name.replace('-', '_')}"
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{database}"')
            urls[name] = urlunsplit(parts._replace(path=f"/{database}"))
    return urls
