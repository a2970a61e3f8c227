"""The proxy's action log: who changed what at the edge, and when.

Every route-table change (applied through the admin API, from the watched file, a revert,
one adopted from another replica), every refused table, every automatic canary rollback,
and every answered call to an operation the access policy marks ``audit: true`` (a model
promotion, a training run) is one entry: when, the kind of action, who (the token's
subject, or the proxy itself for its own decisions) and what. ``GET /_admin/audit`` serves
it to the ``operator`` and ``auditor`` roles.

Entries are kept in memory (the newest ``keep``) and, when ``PROXY_AUDIT_LOG`` names a
file, appended to it as JSON lines, so the log outlives a restart (the newest entries are
read back on start). The file is per replica: in a cluster, ship it with the other logs.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


class ActionLog:
    """Append-only; thread-safe (the admin API's sync handlers run in a thread pool)."""

    def __init__(self, path: Path | None = None, keep: int = 10_000) -> None:
        self.path = path
        self._entries: deque[dict[str, Any]] = deque(maxlen=keep)
        self._lock = threading.Lock()
        self._next_id = 1
        if path is not None and path.is_file():
            self._read_back(path)

    def _read_back(self, path: Path) -> None:
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a crash: the rest is still good
                if isinstance(entry, dict) and isinstance(entry.get("id"), int):
                    self._entries.append(entry)
                    self._next_id = max(self._next_id, entry["id"] + 1)

    def record(self, kind: str, actor: str, **what: Any) -> dict[str, Any]:
        """Append one entry and return it."""
        with self._lock:
            entry = {
                "id": self._next_id,
                "at": datetime.now(UTC).isoformat(),
                "kind": kind,
                "actor": actor,
                **what,
            }
            self._next_id += 1
            self._entries.append(entry)
            if self.path is not None:
                try:
                    with self.path.open("a", encoding="utf-8") as out:
                        out.write(json.dumps(entry, default=str) + "\n")
                except OSError as exc:  # the edge keeps serving; the gap is logged
                    logger.error(
                        "action log %s: %s (entry %d kept in memory)", self.path, exc, entry["id"]
                    )
        return entry

    def entries(
        self, *, kind: str | None = None, after: int = 0, limit: int = 100
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` entries with an id above ``after`` (oldest first)."""
        with self._lock:
            found = [
                e for e in self._entries if e["id"] > after and (kind is None or e["kind"] == kind)
            ]
        return found[-limit:] if limit > 0 else []
