"""The kit's process supervisor: supervisord, driven from Python.

Why supervisord: ``kit up`` must leave processes running after it returns, and a later
``kit down`` or ``kit status`` (another process) must find, inspect and stop them. That
is exactly what supervisord does, and it is well kept: per-program log files, process
groups stopped as a whole (``stopasgroup``/``killasgroup``, so gunicorn or uvicorn
children never outlive their parent), an XML-RPC API over a unix socket, and a clean
``shutdown``. A hand-written supervisor would re-implement all of that less well.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
from supervisor.xmlrpc import SupervisorTransport

from migration_playbook.runner.base import ProcessState
from migration_playbook.runner.catalog import ProcessSpec
from migration_playbook.runner.process import ProcessFailed, port_in_use, tail


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return f'"{escaped}"'


def _argv(argv: tuple[str, ...]) -> str:
    return " ".join(_quote(part) if " " in part else part.replace("%", "%%") for part in argv)


class Supervisor:
    """One supervisord per kit workdir; the config lists the programs started so far."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir.resolve()
        self.conf = self.workdir / "supervisord.conf"
        self.socket = self.workdir / "supervisor.sock"
        self.pidfile = self.workdir / "supervisord.pid"
        self.logs = self.workdir / "logs"
        self.registry = self.workdir / "processes.json"

    # -- lifecycle -----------------------------------------------------------------------
    def running(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            self._rpc().supervisor.getState()
            return True
        except (OSError, xmlrpc.client.Fault):
            return False

    def ensure(self, specs: Iterable[ProcessSpec], ready_timeout: float) -> list[str]:
        """Start the given programs (those not already running) and wait until ready.

        Returns the names started now. Raises ``ProcessFailed`` naming the process that did
        not come up, with the tail of its log.
        """
        specs = list(specs)
        known = self._programs_in_conf()
        wanted = {spec.name: spec for spec in specs}
        for spec in specs:
            if (
                spec.port is not None
                and spec.name not in known
                and port_in_use(spec.port, spec.host or "127.0.0.1")
            ):
                raise ProcessFailed(
                    f"{spec.name}: {spec.host}:{spec.port} is already in use by another "
                    "process; stop it or give it another URL in the topology file"
                )
        already = {s.name for s in self.states() if s.state in ("RUNNING", "STARTING")}
        self._write_conf({**{s.name: s for s in self._specs_from_conf()}, **wanted})
        if not self.running():
            self._start_daemon()
        rpc = self._rpc()
        rpc.supervisor.reloadConfig()
        for spec in specs:
            info = self._info(spec.name)
            if info is None:
                rpc.supervisor.addProcessGroup(spec.name)
            elif info["statename"] not in ("RUNNING", "STARTING"):
                rpc.supervisor.startProcess(spec.name, False)
        started = [spec.name for spec in specs if spec.name not in already]
        for spec in specs:
            self._wait_ready(spec, ready_timeout)
        return started

    def stop(self, names: Iterable[str]) -> None:
        """Stop some programs and forget them (a phase that no longer needs them)."""
        rpc = self._rpc()
        for name in names:
            if self._info(name) is None:
                continue
            try:
                rpc.supervisor.stopProcess(name, True)
            except xmlrpc.client.Fault as fault:
                if "NOT_RUNNING" not in fault.faultString:
                    raise
            rpc.supervisor.removeProcessGroup(name)

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Stop every program and supervisord itself; True when it was running."""
        if not self.running():
            return False
        self._rpc().supervisor.shutdown()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._daemon_alive():
            time.sleep(0.1)
        return True

    def states(self) -> list[ProcessState]:
        if not self.running():
            return []
        return [
            ProcessState(
                name=info["name"],
                state=info["statename"],
                pid=info["pid"] or None,
                description=info["description"],
            )
            for info in self._rpc().supervisor.getAllProcessInfo()
        ]

    def log_path(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    # -- internals ------------------------------------------------------------------------
    def _rpc(self) -> Any:
        transport = SupervisorTransport(None, None, f"unix://{self.socket}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    def _info(self, name: str) -> dict[str, Any] | None:
        try:
            info: dict[str, Any] = self._rpc().supervisor.getProcessInfo(name)
            return info
        except xmlrpc.client.Fault:
            return None

    def _daemon_alive(self) -> bool:
        try:
            pid = int(self.pidfile.read_text().strip())
            os.kill(pid, 0)
            return True
        except (OSError, ValueError):
            return False

    def _start_daemon(self) -> None:
        subprocess.run(
            [sys.executable, "-m", "supervisor.supervisord", "-c", str(self.conf)],
            check=True,
            cwd=Path.cwd(),
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.running():
                return
            time.sleep(0.1)
        raise ProcessFailed(f"supervisord did not start; see {self.logs / 'supervisord.log'}")

    def _wait_ready(self, spec: ProcessSpec, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = "not started"
        while time.monotonic() < deadline:
            info = self._info(spec.name)
            state = info["statename"] if info else "UNKNOWN"
            if state in ("FATAL", "EXITED", "BACKOFF", "STOPPED"):
                raise ProcessFailed(
                    f"{spec.name} is {state} ({info['description'] if info else ''}); "
                    f"last lines of {self.log_path(spec.name)}:\n{tail(self.log_path(spec.name))}"
                )
            if state == "RUNNING":
                if spec.ready_path is None or spec.url is None:
                    return
                try:
                    response = httpx.get(spec.url + spec.ready_path, timeout=2.0)
                    if response.status_code == 200:
                        return
                    last = f"HTTP {response.status_code}: {response.text[:200]}"
                except httpx.HTTPError as exc:
                    last = type(exc).__name__
            time.sleep(0.25)
        raise ProcessFailed(
            f"{spec.name} was not ready at {spec.url}{spec.ready_path or ''} after "
            f"{timeout:.0f}s ({last}); last lines of {self.log_path(spec.name)}:\n"
            f"{tail(self.log_path(spec.name))}"
        )

    def _programs_in_conf(self) -> set[str]:
        return {spec.name for spec in self._specs_from_conf()}

    def _specs_from_conf(self) -> list[ProcessSpec]:
        # processes.json beside the conf records what this workdir runs, across invocations.
        if not self.registry.exists():
            return []
        return [
            ProcessSpec(
                name=item["name"],
                argv=tuple(item["argv"]),
                url=item["url"],
                env=item["env"],
                ready_path=item["ready_path"],
                description=item["description"],
                bind=item.get("bind"),
                replica_of=item.get("replica_of"),
                consumer=item.get("consumer"),
            )
            for item in json.loads(self.registry.read_text())
        ]

    def _write_conf(self, specs: dict[str, ProcessSpec]) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.registry.write_text(json.dumps([asdict(spec) for spec in specs.values()], indent=1))
        self.registry.chmod(0o600)  # it holds the proxy's secret
        lines = [
            "[unix_http_server]",
            f"file={self.socket}",
            "chmod=0700",
            "",
            "[supervisord]",
            f"logfile={self.logs / 'supervisord.log'}",
            f"pidfile={self.pidfile}",
            f"directory={Path.cwd()}",
            "logfile_maxbytes=5MB",
            "logfile_backups=1",
            "",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "",
            "[supervisorctl]",
            f"serverurl=unix://{self.socket}",
            "",
        ]
        for spec in specs.values():
            env = {**spec.env}
            environment = ",".join(f"{key}={_quote(value)}" for key, value in env.items())
            lines += [
                f"[program:{spec.name}]",
                f"command={_argv(spec.argv)}",
                f"environment={environment}",
                "autostart=true",
                "autorestart=false",
                "startsecs=1",
                "startretries=0",
                "stopasgroup=true",
                "killasgroup=true",
                "stopsignal=TERM",
                "stopwaitsecs=15",
                "redirect_stderr=true",
                f"stdout_logfile={self.log_path(spec.name)}",
                "stdout_logfile_maxbytes=20MB",
                "stdout_logfile_backups=1",
                "",
            ]
        self.conf.write_text("\n".join(lines))
