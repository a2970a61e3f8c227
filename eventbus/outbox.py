"""The transactional outbox: an event is written with the work, and relayed after commit.

A service adds the encoded event to its ``outbox`` table *in the same database
transaction* as the state change it announces, so a committed change always has its
event, even if the process dies right after answering. :class:`OutboxRelay` (an asyncio
task) publishes committed rows pipelined with confirms and deletes exactly the confirmed
ones; everything else stays for the next pass. Delivery is at least once: a crash between
confirm and delete publishes a row twice, and consumers drop the repeat by ``event_id``.

Several relays on one database (uvicorn workers, consumer replicas, a restarted process
beside the old one) never publish the same row together: every row has an owner and a
lease. The process that writes a row owns it for ``lease_s`` (its relay publishes it from
memory); a relay takes any other row only by claiming it, in one ``UPDATE`` whose
candidate rows are selected ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (a concurrent claimer
skips them instead of waiting) and whose own ``WHERE`` re-checks the lease (so a claimer
that did wait sees the other's claim and leaves the row); on SQLite the ``UPDATE`` holds
the database's one write lock. A relay then publishes only the rows it owns. Only a relay
that stalls longer than the lease (or dies) lets another take its rows: at least once.

Two ways rows reach the relay. The hot path hands the committed messages over
(:meth:`OutboxRelay.hand_over`): they are published from memory, and the confirmed rows
are deleted by event id together, at most every ``cleanup_interval_s`` (one statement
for hundreds of events instead of one transaction per batch), so a busy service never
reads its own outbox back. A crash between a confirm and that cleanup publishes those
events again on the next start: at least once, as always. A sweep reads the table in id order
for everything else: rows committed by a process that died, rows whose publish failed,
rows of services that only :meth:`~OutboxRelay.wake` the relay. The sweep runs on every
wake and poll while nothing was handed over, and at most every ``sweep_interval_s``
while the hot path keeps the relay busy; it skips the rows this relay holds in memory.
A row commits (on a request thread) a moment before its message is handed over (on the
event loop), so a sweep can publish a row of this process's own first: the relay
remembers what its sweeps published lately and drops those messages from the hand-over
instead of publishing them a second time.

Reusable: ``outbox_table(metadata)`` adds the table to any service's SQLAlchemy metadata
(ingestion's ``transactions_ingested``, inference's ``prediction_logged``, ...).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from eventbus.publisher_async import AsyncPublisher
from eventbus.wire import OutgoingMessage

logger = logging.getLogger(__name__)
T = TypeVar("T")


def outbox_table(metadata: MetaData, name: str = "outbox") -> Table:
    """The outbox table on ``metadata`` (ids ascend, so rows relay in commit order)."""
    return Table(
        name,
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("exchange", String(255), nullable=False),
        Column("routing_key", String(255), nullable=False),
        Column("body", LargeBinary, nullable=False),
        Column("headers", JSON, nullable=False),
        Column("app_id", String(64), nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        # Which relay may publish the row, and until when (epoch seconds): see the module.
        Column("owner", String(64), nullable=True),
        Column("lease_until", Float, nullable=True),
    )


@dataclass(frozen=True)
class PendingEvent:
    """One outbox row: the message and when it was committed."""

    row_id: int
    message: OutgoingMessage
    created_at: datetime


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _pending(row: RowMapping) -> PendingEvent:
    return PendingEvent(
        row_id=int(row["id"]),
        created_at=_aware(row["created_at"]),
        message=OutgoingMessage(
            exchange=row["exchange"],
            routing_key=row["routing_key"],
            body=bytes(row["body"]),
            headers=dict(row["headers"]),
            message_id=row["event_id"],
            timestamp=_aware(row["occurred_at"]),
            app_id=row["app_id"],
        ),
    )


#: How long a relay owns a row it wrote or claimed before another relay may take it.
DEFAULT_LEASE_S = 10.0
_LEASE_COLUMNS = {"owner": "VARCHAR(64)", "lease_until": "DOUBLE PRECISION"}


class Outbox:
    """Reads and writes one outbox table; every method runs inside a caller's session.

    ``owner`` names this process's relay (a fresh id by default): the rows this process
    writes are its own for ``lease_s``, and :meth:`claim` takes others' only when their
    lease has run out.
    """

    def __init__(
        self, table: Table, *, owner: str | None = None, lease_s: float = DEFAULT_LEASE_S
    ) -> None:
        if lease_s <= 0:
            raise ValueError("lease_s must be positive")
        self.table = table
        self.owner = owner or uuid.uuid4().hex
        self.lease_s = lease_s

    def upgrade(self, session: Session) -> None:
        """Add the lease columns to an outbox table created before they existed (idempotent,
        safe when two processes start together)."""
        t = self.table
        connection = session.connection()
        present = {c["name"] for c in inspect(connection).get_columns(t.name)}
        for name, sql_type in _LEASE_COLUMNS.items():
            if name in present:
                continue
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text(f'ALTER TABLE "{t.name}" ADD COLUMN IF NOT EXISTS {name} {sql_type}')
                )
            else:
                connection.execute(text(f'ALTER TABLE "{t.name}" ADD COLUMN {name} {sql_type}'))

    def claim(self, session: Session, limit: int, after_id: int = 0) -> list[PendingEvent]:
        """Take up to ``limit`` rows with ``id > after_id`` (oldest first) that this relay
        owns or whose lease ran out, renew the lease, and return the rows it now owns.

        Call in a write transaction; the claim is visible to other relays once it commits.
        """
        t = self.table
        now = time.time()
        free = or_(t.c.lease_until.is_(None), t.c.lease_until < now, t.c.owner == self.owner)
        candidates = (
            select(t.c.id)
            .where(free, t.c.id > after_id)
            .order_by(t.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        session.execute(
            update(t)
            .where(t.c.id.in_(candidates.scalar_subquery()), free)
            .values(owner=self.owner, lease_until=now + self.lease_s)
            .execution_options(synchronize_session=False)
        )
        query = (
            select(t)
            .where(t.c.owner == self.owner, t.c.id > after_id)
            .order_by(t.c.id)
            .limit(limit)
        )
        return [_pending(row) for row in session.execute(query).mappings().all()]

    def add(self, session: Session, message: OutgoingMessage) -> None:
        """Stage ``message`` in the caller's transaction (it commits with the work)."""
        self.add_many(session, [message])

    def add_many(self, session: Session, messages: Sequence[OutgoingMessage]) -> None:
        """Stage several messages with one statement (an executemany) in the caller's
        transaction."""
        if not messages:
            return
        now = datetime.now(UTC)
        lease_until = time.time() + self.lease_s
        rows = [
            {
                "event_id": m.event_id,
                "exchange": m.exchange,
                "routing_key": m.routing_key,
                "body": m.body,
                "headers": dict(m.headers),
                "app_id": m.app_id,
                "occurred_at": m.timestamp,
                "created_at": now,
                "owner": self.owner,
                "lease_until": lease_until,
            }
            for m in messages
        ]
        session.connection().execute(insert(self.table), rows)

    def pending(self, session: Session, limit: int, after_id: int = 0) -> list[PendingEvent]:
        """Up to ``limit`` rows with ``id > after_id``, oldest first, whoever owns them (to
        inspect the table; a relay publishes only what it :meth:`claim`s)."""
        t = self.table
        query = select(t).where(t.c.id > after_id).order_by(t.c.id).limit(limit)
        return [_pending(row) for row in session.execute(query).mappings().all()]

    def remove(self, session: Session, row_ids: Sequence[int]) -> None:
        if row_ids:
            session.execute(delete(self.table).where(self.table.c.id.in_(list(row_ids))))

    def remove_events(self, session: Session, event_ids: Sequence[str]) -> None:
        """Delete rows by event id (what the hand-over path knows of its messages)."""
        if event_ids:
            t = self.table
            session.execute(delete(t).where(t.c.event_id.in_(list(event_ids))))

    def depth(self, session: Session) -> int:
        return int(session.execute(select(func.count()).select_from(self.table)).scalar_one())


#: Called after each relayed batch: (published count, age in seconds of each event).
PublishedHook = Callable[[int, list[float]], None]


class OutboxRelay:
    """Publishes committed outbox rows; wake it after a commit for low latency.

    ``transaction`` opens a session in a transaction that commits on exit (the
    service's own, so that it can serialise SQLite writers); ``read_transaction``, if
    given, is used for reads (no writer lock needed). Database calls run on one dedicated
    thread, so the event loop never blocks on the database, and the next batch is read
    while the current one is in flight. ``linger_s`` is how long a wake-up waits before a
    pass, so that one pass carries the events of concurrent requests.
    """

    def __init__(
        self,
        transaction: Callable[[], AbstractContextManager[Session]],
        outbox: Outbox,
        publisher: AsyncPublisher,
        *,
        batch_size: int = 500,
        poll_interval_s: float = 0.5,
        on_published: PublishedHook | None = None,
        read_transaction: Callable[[], AbstractContextManager[Session]] | None = None,
        linger_s: float = 0.002,
        sweep_interval_s: float = 1.0,
        cleanup_interval_s: float = 0.5,
    ) -> None:
        self._transaction = transaction
        self._read = read_transaction or transaction
        self.outbox = outbox
        self.publisher = publisher
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self._on_published = on_published
        self.linger_s = linger_s
        self._wake = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-relay")
        self._task: asyncio.Task[None] | None = None
        self.depth = 0
        self.published = 0
        self.last_error = ""
        self.sweep_interval_s = sweep_interval_s
        self._handed: deque[OutgoingMessage] = deque()
        self._held: set[str] = set()  # event ids handed over and not yet deleted
        self._confirmed: list[str] = []  # held, published, their rows still to delete
        self.cleanup_interval_s = cleanup_interval_s
        self._cleaned_at = time.monotonic()
        self._swept_at = 0.0
        self._sweep_needed = True
        # Event ids the sweeps published lately (an ordered set, oldest first, bounded):
        # a hand-over of one of them came after its row was swept, and is dropped.
        self._swept: dict[str, None] = {}
        self._swept_limit = 10 * batch_size

    async def _db(self, fn: Callable[[Session], T], *, write: bool = True) -> T:
        opener = self._transaction if write else self._read

        def run() -> T:
            with opener() as session:
                return fn(session)

        return await asyncio.get_running_loop().run_in_executor(self._executor, run)

    def wake(self) -> None:
        """A new row was committed: relay now instead of at the next poll."""
        self._sweep_needed = True
        self._wake.set()

    def hand_over(self, messages: Sequence[OutgoingMessage]) -> None:
        """These messages' rows just committed: publish them from memory (no read back).

        Call on the relay's event loop, after the commit. A message that is not confirmed
        stays in the table, where the next sweep finds it.
        """
        for message in messages:
            self._handed.append(message)
            self._held.add(message.event_id)
        self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            await self._db(self.outbox.upgrade)
            self._task = asyncio.create_task(self._loop(), name="outbox-relay")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self._clean_up(force=True)
        except Exception as exc:  # noqa: BLE001 - republished on the next start, deduped
            logger.warning("outbox clean-up on close failed: %s", exc)
        self._executor.shutdown(wait=True)

    async def _loop(self) -> None:
        while True:
            try:
                await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep relaying whatever one pass hit
                self.last_error = f"{type(exc).__name__}: {exc}"
                logger.warning("outbox relay pass failed: %s", self.last_error)
            if not self.publisher.connected:
                # Rows wait in the table; the publisher's supervisor reconnects.
                await self.publisher.wait_connected(self.poll_interval_s)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)
            if self._wake.is_set() and self.linger_s > 0:
                # Let concurrent commits land: one pass then carries several events.
                await asyncio.sleep(self.linger_s)

    def _fetch(self, after_id: int) -> asyncio.Future[list[PendingEvent]]:
        """Claim the next batch (a write: the claim is what keeps other relays off it)."""
        limit = self.batch_size
        return asyncio.ensure_future(self._db(lambda s: self.outbox.claim(s, limit, after_id)))

    async def relay_once(self) -> int:
        """Publish what was handed over, then (when due) sweep the table; return how many
        were confirmed."""
        self._wake.clear()
        total = await self._relay_handed()
        await self._clean_up()
        due = time.monotonic() - self._swept_at >= self.sweep_interval_s
        if self._sweep_needed or due or not self.publisher.connected:
            total += await self._sweep()
        return total

    async def _relay_handed(self) -> int:
        total = 0
        while self._handed and self.publisher.connected:
            batch = [self._handed.popleft() for _ in range(min(self.batch_size, len(self._handed)))]
            batch = self._not_swept(batch)
            if not batch:
                continue
            results = await self.publisher.publish_many(batch)
            confirmed = [m for m, err in zip(batch, results, strict=True) if err is None]
            failed = [err for err in results if err is not None]
            if confirmed:
                # Held until their rows are deleted, so no sweep publishes them again.
                self._confirmed.extend(m.event_id for m in confirmed)
                now = time.time()
                ages = [max(now - m.timestamp.timestamp(), 0.0) for m in confirmed]
                total += len(confirmed)
                self._published(len(confirmed), ages)
            for message, err in zip(batch, results, strict=True):
                if err is not None:
                    self._held.discard(message.event_id)
            if failed:
                # Their rows wait in the table for the sweep, in order.
                self.last_error = str(failed[0])
                logger.warning("%d of %d events not confirmed: %s", len(failed), len(batch),
                               failed[0])  # fmt: skip
                self._sweep_needed = True
                break
        if self._handed and not self.publisher.connected:
            # The broker went away: the rows are in the table; the sweep takes over.
            for message in self._handed:
                self._held.discard(message.event_id)
            self._handed.clear()
            self._sweep_needed = True
        return total

    async def _clean_up(self, force: bool = False) -> None:
        """Delete the rows of confirmed hand-overs, all in one statement, when due."""
        if not self._confirmed:
            return
        due = time.monotonic() - self._cleaned_at >= self.cleanup_interval_s
        if not (force or due or len(self._confirmed) >= 10 * self.batch_size):
            return
        ids, self._confirmed = self._confirmed, []
        self._cleaned_at = time.monotonic()
        try:
            for start in range(0, len(ids), self.batch_size):
                chunk = ids[start : start + self.batch_size]
                await self._db(functools.partial(self.outbox.remove_events, event_ids=chunk))
        except Exception:
            self._confirmed = ids + self._confirmed  # tried again at the next pass
            raise
        self._held.difference_update(ids)

    def _published(self, count: int, ages: list[float]) -> None:
        self.published += count
        if self._on_published is not None:
            self._on_published(count, ages)

    async def _sweep(self) -> int:
        """Publish what is pending in the table, batch after batch (rows held in memory
        excepted); stop at the first batch with a failure (the broker is in trouble; the
        rows stay for the next pass, in order)."""
        self._sweep_needed = False
        self._swept_at = time.monotonic()
        total = 0
        complete = True  # whether this pass saw every pending row
        raw = await self._fetch(0)
        while raw and self.publisher.connected:
            # Read ahead while this batch flies (only when there may be more).
            upcoming = self._fetch(raw[-1].row_id) if len(raw) >= self.batch_size else None
            batch = self._unheld(raw)
            results = await self.publisher.publish_many([p.message for p in batch])
            confirmed = [p for p, err in zip(batch, results, strict=True) if err is None]
            failed = [err for err in results if err is not None]
            if confirmed:
                self._remember_swept(p.message.event_id for p in confirmed)
                ids = [p.row_id for p in confirmed]
                await self._db(functools.partial(self.outbox.remove, row_ids=ids))
                now = time.time()
                ages = [max(now - p.created_at.timestamp(), 0.0) for p in confirmed]
                total += len(confirmed)
                self._published(len(confirmed), ages)
            if failed:
                self.last_error = str(failed[0])
                logger.warning(
                    "%d of %d events not confirmed: %s", len(failed), len(batch), failed[0]
                )
                if upcoming is not None:
                    await upcoming
                complete = False
                break
            raw = await upcoming if upcoming is not None else []
        if raw and not self.publisher.connected:
            complete = False
        # A count is a scan: only when rows were left behind (a wake reruns the pass when
        # rows were committed meanwhile).
        self.depth = 0 if complete else await self._db(self.outbox.depth, write=False)
        return total

    def _remember_swept(self, event_ids: Iterable[str]) -> None:
        for event_id in event_ids:
            self._swept[event_id] = None
        for _ in range(len(self._swept) - self._swept_limit):
            del self._swept[next(iter(self._swept))]

    def _not_swept(self, batch: list[OutgoingMessage]) -> list[OutgoingMessage]:
        """The handed-over messages of ``batch`` that no sweep has published already (their
        row committed before the hand-over reached the loop, and a sweep took it)."""
        if not self._swept:
            return batch
        fresh = []
        for message in batch:
            if message.event_id in self._swept:
                self._held.discard(message.event_id)
            else:
                fresh.append(message)
        return fresh

    def _unheld(self, batch: list[PendingEvent]) -> list[PendingEvent]:
        """The rows of ``batch`` that this relay is not publishing from memory already."""
        if not self._held:
            return batch
        return [p for p in batch if p.message.event_id not in self._held]
