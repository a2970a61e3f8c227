"""The test suite's PostgreSQL, found in one place.

The URL is ``TEST_POSTGRES_URL`` from the environment, else the one ``make services``
(``scripts/ensure_services.sh``) wrote to the per-user credentials file: the kit's own role
``aikit`` and its database ``aikit_test``, which the role owns, so a test can create and drop
its own schema there. No URL, or a server that refuses the login, fails the test run; a
PostgreSQL test is never skipped.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from migration_playbook.runner.postgres import TEST_URL_VARIABLE, credentials_file, read_credentials


def postgres_url() -> str:
    """The test database's URL (``TEST_POSTGRES_URL``, else the credentials file's)."""
    url = os.environ.get(TEST_URL_VARIABLE) or read_credentials().get(TEST_URL_VARIABLE)
    if not url:
        pytest.fail(
            f"No PostgreSQL for the tests: {TEST_URL_VARIABLE} is not set and "
            f"{credentials_file()} has none. Run `make services` (it creates the kit's own "
            f"role and databases and writes that file), or set {TEST_URL_VARIABLE}.",
            pytrace=False,
        )
    return url


def redacted(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages)."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def libpq_url(url: str) -> str:
    """A URL libpq (psycopg) accepts: SQLAlchemy's ``postgresql+psycopg://`` without the driver."""
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def connect() -> psycopg.Connection[Any]:
    """An autocommit connection to the test database; fails the test if it is unreachable."""
    url = postgres_url()
    try:
        return psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        error = str(exc).strip()
    # outside the except block: the message alone, not psycopg's exception chained before it
    pytest.fail(
        f"PostgreSQL at {redacted(url)} refused or is unreachable: {error}\nRun "
        f"`make services`, or point {TEST_URL_VARIABLE} at a server and database where "
        "the role may create schemas.",
        pytrace=False,
    )


@contextmanager
def fresh_schema(prefix: str) -> Iterator[str]:
    """A new schema in the test database, dropped with CASCADE afterwards; yields a URL
    that selects it (the ``search_path`` connection option)."""
    url = postgres_url()
    schema = f"{prefix}_{uuid.uuid4().hex[:20]}"
    with connect() as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with connect() as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def database_url(name: str) -> str:
    """The test server's URL for another database ``name`` (same role, same server)."""
    parts = urlsplit(postgres_url())
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def fresh_databases(prefix: str, names: Iterable[str]) -> Iterator[dict[str, str]]:
    """New databases on the test server (the kit's role may create them), one per name;
    yields name -> URL and drops them afterwards, whoever is still connected."""
    token = uuid.uuid4().hex[:10]
    created = {name: f"{prefix}_{token}_{name.replace('-', '_')}" for name in names}
    with connect() as admin:
        for database in created.values():
            admin.execute(f'CREATE DATABASE "{database}"')
    try:
        yield {name: database_url(database) for name, database in created.items()}
    finally:
        with connect() as admin:
            for database in created.values():
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


#: Parameters of a fixture that runs a store's tests on both backends.
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextmanager
def fresh_database(backend: str, folder: Path, name: str) -> Iterator[str]:
    """A fresh, empty database for one test: a SQLite file in ``folder``, or a new schema in
    the test PostgreSQL (``fresh_schema``); yields its URL."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'{name}.db'}"
        return
    with fresh_schema(name) as url:
        yield url
