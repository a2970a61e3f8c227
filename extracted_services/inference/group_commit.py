"""Group commit: scored batches that wait for the audit writer are written together.

Every answer is audited (and its ``prediction_logged`` staged) before it is given, one
database transaction per write. One writer thread does the writes; while it commits, the
next scored batches queue up, and its next transaction takes all of them at once. Under a
light load nothing waits (each batch is its own transaction, as before); near saturation a
transaction carries many batches, so the cost of a commit, and of one event message per
commit, is shared by more decisions instead of growing with the rate. Each caller still
waits for the commit that holds its rows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

E = TypeVar("E")
R = TypeVar("R")


class GroupCommitter(Generic[E, R]):
    """Runs ``write(items)`` on ``executor`` for everything queued since the last write.

    ``on_committed(result)`` runs on the event loop after each successful write (the
    messaging hand-over); a failed write fails every caller of that group.
    """

    def __init__(
        self,
        write: Callable[[list[E]], R],
        executor: Executor,
        on_committed: Callable[[R], None] | None = None,
        on_group: Callable[[int], None] | None = None,
    ) -> None:
        self._write = write
        self._executor = executor
        self._on_committed = on_committed
        self._on_group = on_group
        self._pending: list[tuple[list[E], asyncio.Future[None]]] = []
        self._drainer: asyncio.Task[None] | None = None
        self.writes = 0

    async def write(self, items: list[E]) -> None:
        """Return once ``items`` are committed (together with whatever queued with them)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((items, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain(), name="group-commit")
        await future

    async def drain(self) -> None:
        """Wait until everything queued so far is written (shutdown)."""
        while self._drainer is not None and not self._drainer.done():
            await asyncio.shield(self._drainer)

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            group, self._pending = self._pending, []
            items = [item for batch, _ in group for item in batch]
            try:
                result = await loop.run_in_executor(self._executor, self._write, items)
            except asyncio.CancelledError:
                for _, future in [*group, *self._pending]:
                    if not future.done():
                        future.cancel()
                self._pending = []
                raise
            except Exception as exc:  # noqa: BLE001 - each caller gets the error
                logger.exception("writing a group of %d batches failed", len(group))
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self.writes += 1
            if self._on_group is not None:
                self._on_group(len(group))
            if self._on_committed is not None:
                self._on_committed(result)
            for _, future in group:
                if not future.done():
                    future.set_result(None)
