"""JSON log lines with the request's trace id, configured the same way in every process.

One line is one JSON object: ``ts`` (UTC, milliseconds), ``level``, ``service``,
``logger``, ``message``, ``trace_id`` while a request (or a message) with a W3C
``traceparent`` is being handled, ``exception`` with the traceback when there is one. Why
here: three formatters had drifted (``time`` or ``ts``, ``exception`` or ``exc``, a service
name or none) and the nameko workers wrote plain text, so one search could not follow a
trace across the processes it went through.

The current ``traceparent`` lives in a context variable: asyncio tasks, threads and green
threads (greenlet gives each its own context) each see their own.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar, Token
from datetime import UTC, datetime

#: The W3C ``traceparent`` of what this task/thread is handling (None: nothing traced).
current_traceparent: ContextVar[str | None] = ContextVar("traceparent", default=None)

_PLAIN = "%(asctime)s %(levelname)s %(name)s %(message)s"


def trace_id_of(traceparent: str | None) -> str | None:
    """The 32-hex-digit trace id of a well-formed ``traceparent``, else None."""
    if traceparent:
        parts = traceparent.split("-")
        if len(parts) == 4 and len(parts[1]) == 32:
            return parts[1]
    return None


def bind_traceparent(traceparent: str | None) -> Token[str | None]:
    """Make ``traceparent`` the current one; give the token to :func:`unbind_traceparent`."""
    return current_traceparent.set(traceparent)


def unbind_traceparent(token: Token[str | None]) -> None:
    current_traceparent.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the current trace id when there is one."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if trace_id := trace_id_of(current_traceparent.get()):
            entry["trace_id"] = trace_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(level: str, service: str, *, json_lines: bool = True) -> None:
    """Configure the root logger of this process: JSON lines (the default) or plain text
    for a person at a terminal (``*_LOG_JSON=false``)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(service) if json_lines else logging.Formatter(_PLAIN))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
