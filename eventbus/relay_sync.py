"""The outbox relay for synchronous code (the nameko workers, where eventlet turns the
thread into a green thread): committed rows are claimed (``Outbox.claim``: several relays
on one database never publish the same row together), published in id order with
publisher confirms, and each row is deleted only after its confirm (at least once).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy.orm import Session

from eventbus.outbox import Outbox
from eventbus.publisher_sync import SyncPublisher

logger = logging.getLogger(__name__)


class SyncOutboxRelay:
    """Relays one outbox on its own thread; :meth:`wake` after a commit for low latency."""

    def __init__(
        self,
        transaction: Callable[[], AbstractContextManager[Session]],
        outbox: Outbox,
        publisher: SyncPublisher,
        *,
        batch_size: int = 100,
        poll_interval_s: float = 0.5,
        on_published: Callable[[str], None] | None = None,
    ) -> None:
        self._transaction = transaction
        self.outbox = outbox
        self.publisher = publisher
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self._on_published = on_published
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error = ""

    def wake(self) -> None:
        self._wake.set()

    def relay_once(self) -> int:
        """Publish the pending rows; returns how many were confirmed and removed."""
        with self._transaction() as session:
            pending = self.outbox.claim(session, self.batch_size)
        for item in pending:
            self.publisher.publish(item.message)
            with self._transaction() as session:
                self.outbox.remove(session, [item.row_id])
            if self._on_published is not None:
                self._on_published(item.message.routing_key)
        return len(pending)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.relay_once():
                    continue
                self.last_error = ""
            except Exception as exc:  # noqa: BLE001 - the rows stay; retried next round
                self.last_error = f"{type(exc).__name__}: {exc}"
                logger.warning("outbox relay: %s; retrying", self.last_error)
            self._wake.wait(self.poll_interval_s)
            self._wake.clear()

    def start(self) -> None:
        if self._thread is None:
            with self._transaction() as session:
                self.outbox.upgrade(session)
            self._thread = threading.Thread(target=self._loop, name="outbox-relay", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.publisher.close()
