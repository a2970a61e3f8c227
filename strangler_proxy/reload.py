"""Hot reload from the table file: watch its folder, validate, swap; a bad file is rejected.

Editors often replace a file by renaming a new one over it, so the folder is watched
(not recursively) and events are filtered to the table's name.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from watchfiles import Change, awatch

from strangler_proxy.errors import RouteTableError
from strangler_proxy.table_store import TableStore

logger = logging.getLogger(__name__)


def reload_from_file(store: TableStore, path: Path) -> bool:
    """Apply the file's current content; False (and logged) when rejected or unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        logger.error("route table %s unreadable (%s); the live table keeps serving", path, exc)
        return False
    try:
        store.apply_text(text, applied_by=f"file:{path.name}", origin="file", source=str(path))
    except RouteTableError:
        return False  # apply_text logged every issue
    return True


async def watch_table(
    store: TableStore,
    path: Path,
    stop: asyncio.Event,
    debounce_ms: int,
    ready: asyncio.Event | None = None,
) -> None:
    """Reload ``path`` on every change until ``stop`` is set."""
    path = path.resolve()

    def _ours(change: Change, changed: str) -> bool:
        return change is not Change.deleted and Path(changed).name == path.name

    logger.info("watching %s for route table changes", path)
    if ready is not None:
        ready.set()
    async for _changes in awatch(
        path.parent,
        watch_filter=_ours,
        debounce=debounce_ms,
        step=20,
        stop_event=stop,
        recursive=False,
    ):
        reload_from_file(store, path)
