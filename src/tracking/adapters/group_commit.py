"""Group commit: concurrent small writes share one transaction, and each caller is answered
only after that transaction committed."""

import asyncio
import collections
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from prometheus_client import Histogram

from tracking.adapters.prometheus import REGISTRY
from tracking.application.ports import (
    Added,
    Clock,
    EventFeed,
    EventKey,
    EventStore,
    EventWriter,
    Stored,
    UnitOfWorkFactory,
    UserKey,
)
from tracking.domain.errors import TrackingError
from tracking.domain.events import Event
from tracking.domain.windows import StaleMark, WindowSize, late_windows

FLUSH_EVENTS = Histogram(
    "tracking_group_commit_events",
    "Events stored per group-commit transaction",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000),
    registry=REGISTRY,
)
FLUSH_WAIT = Histogram(
    "tracking_group_commit_wait_seconds",
    "Time a write waited for the transaction that took it to start",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
    registry=REGISTRY,
)


class _Waiting:
    """A write waiting for its flush; `answer` is what its caller awaits. A caller that gives
    up (its request cancelled) cancels `answer`, and its events go on: they may be stored, and
    nobody is told."""

    __slots__ = ("answer", "clients", "events", "since")

    def __init__(self, events: Sequence[Event]) -> None:
        self.events = events
        self.since = time.perf_counter()
        self.answer: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        self.clients = frozenset(e.client_id for e in events)

    def settle(self, answer: Stored | BaseException) -> None:
        if self.answer.done():
            return  # cancelled
        if isinstance(answer, BaseException):
            self.answer.set_exception(answer)
        else:
            self.answer.set_result(answer)


_ALL_STORED = Stored(duplicates=frozenset(), suppressed=frozenset())


@dataclass(frozen=True, slots=True)
class _Committed:
    stored_before: set[EventKey]
    """Keys of events stored before this transaction."""
    refused: set[UserKey]
    """The suppressed users among the events' (usually none): their events were left out."""

    def answer(self, events: Sequence[Event]) -> Stored:
        """What became of these events, when they alone were written."""
        return Stored(
            duplicates=frozenset(self.stored_before), suppressed=self.suppressed_in(events)
        )

    def suppressed_in(self, events: Sequence[Event]) -> frozenset[EventKey]:
        """The keys of those of these events whose user is suppressed."""
        if not self.refused:
            return frozenset()
        return frozenset(
            (e.client_id, e.id) for e in events if (e.client_id, e.user_id) in self.refused
        )


class UnitOfWorkEventStore(EventStore):
    """`store_new` as a unit of work of its own: for a storage whose transaction costs no
    round trip (memory)."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def store_new(self, events: Sequence[Event]) -> Added:
        async with self._uow() as uow:
            added = await uow.events.add_new(events)
            await uow.commit()
        return added


class GroupCommitEventWriter(EventWriter):
    """Also marks the windows of late events stale, in the same transaction (the domain's
    `late_windows`, judged by the clock as the flush starts: a write in flight at a window's
    end is the grace period's, `Window.is_due`). A flush with no late event and no key sent
    twice is one step of the `store` (no transaction to hold). The events of suppressed
    users are left out, in the same transaction (`EventRepository.add_new`): they are
    answered `suppressed`. Once committed, what it stored (at its
    positions in each client's journal) goes to the feed, before any caller is answered.

    Writes of fewer than `max_events` wait for the next flush: it starts as soon as one of
    `max_flushes` concurrent flushes is free (after `max_wait` seconds, to gather more) and takes
    up to `max_events` events in one transaction. Under load, a flush is as large as the load
    made it; when idle, a lone write is flushed at once. A larger write is its own transaction.

    A flush that fails fails exactly the writes in it: nothing of it was acknowledged, so a
    retry is safe. An outage (`Unavailable`) fails them all. Anything else is a bug that one
    write may have brought in: each write of the flush is then committed alone, so only the
    write that fails gets the error and its neighbours (other tenants among them) are stored."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        store: EventStore,
        *,
        clock: Clock,
        window_size: WindowSize,
        feed: EventFeed,
        max_events: int = 500,
        max_wait: float = 0.0,
        max_flushes: int = 2,
    ) -> None:
        self._uow = uow
        self._store = store
        self._clock = clock
        self._size = window_size
        self._feed = feed
        self._max_events = max_events
        self._max_wait = max_wait
        self._max_flushes = max_flushes
        self._waiting: deque[_Waiting] = deque()
        self._flushes: set[asyncio.Task[None]] = set()
        self._busy: collections.Counter[UUID] = collections.Counter()
        """The clients of the flushes under way."""
        self._starting = False
        """A flush is started and has not taken its group yet."""

    async def write(self, events: Sequence[Event]) -> Stored:
        if len(events) >= self._max_events:
            FLUSH_EVENTS.observe(len(events))
            return (await self._commit(events)).answer(events)
        waiting = _Waiting(events)
        self._waiting.append(waiting)
        self._start_flush(waiting)
        return await waiting.answer

    def _start_flush(self, arrived: _Waiting | None = None) -> None:
        """Starts a flush when one may start and something waiting may go in it: `arrived`,
        just queued, or (when None) any waiting write. The flush takes its group when it
        runs, so the writes queued meanwhile go in it too."""
        if self._starting or not self._waiting or len(self._flushes) >= self._max_flushes:
            return
        candidates = self._waiting if arrived is None else (arrived,)
        if self._busy and all(not self._busy.keys().isdisjoint(w.clients) for w in candidates):
            return  # all of a client a flush under way holds: its end starts the next
        self._starting = True
        flush = asyncio.create_task(self._flush())
        self._flushes.add(flush)
        flush.add_done_callback(self._flush_done)

    def _flush_done(self, flush: asyncio.Task[None]) -> None:
        self._flushes.discard(flush)
        self._start_flush()

    async def _flush(self) -> None:
        try:
            if self._max_wait:
                await asyncio.sleep(self._max_wait)
        finally:
            self._starting = False
        group = self._take_group()
        self._start_flush()  # what it left (of other clients, or over `max_events`) may go
        try:
            await self._flush_group(group)
        finally:
            self._busy.subtract(client for waiting in group for client in waiting.clients)
            self._busy += collections.Counter()  # drops the clients no flush holds any more

    async def _flush_group(self, group: list[_Waiting]) -> None:
        if not group:
            return
        started = time.perf_counter()
        events = [e for w in group for e in w.events]
        for waiting in group:
            FLUSH_WAIT.observe(started - waiting.since)
        # Each write's keys are distinct (the handler checked); two writes may share one. The
        # ids' integers are hashed in C, where a UUID's own hash is a Python call.
        distinct = len({(e.client_id.int, e.id.int) for e in events}) if group[1:] else len(events)
        FLUSH_EVENTS.observe(distinct)
        repeats = distinct < len(events)
        try:
            # A key sent by two writes: the first whose user is not suppressed owns it.
            committed = await self._commit(events, repeats=repeats)
        except TrackingError as error:
            for waiting in group:
                waiting.settle(error)
            return
        except Exception as error:  # noqa: BLE001 - answered to each caller below
            if len(group) == 1:
                group[0].settle(error)
                return
            await self._commit_alone(group)
            return
        if not repeats and not committed.stored_before and not committed.refused:
            for waiting in group:
                waiting.settle(_ALL_STORED)  # by far the most common answer
            return
        # A key sent by two writes of one group is stored for the first and a duplicate for
        # the other, exactly as if they had been two transactions.
        owners = self._owners(group, committed.refused)
        stored_before = committed.stored_before
        for waiting in group:
            suppressed = committed.suppressed_in(waiting.events)
            keys = {(e.client_id, e.id) for e in waiting.events} - suppressed
            duplicates = frozenset(
                k for k in keys if k in stored_before or owners[k] is not waiting
            )
            waiting.settle(Stored(duplicates=duplicates, suppressed=suppressed))

    @staticmethod
    def _owners(group: list[_Waiting], refused: set[UserKey]) -> dict[EventKey, _Waiting]:
        """Each key's first write among those whose user is not suppressed (else its first)."""
        owners: dict[EventKey, _Waiting] = {}
        for waiting in group:
            for event in waiting.events:
                if (event.client_id, event.user_id) not in refused:
                    owners.setdefault((event.client_id, event.id), waiting)
        for waiting in group:
            for event in waiting.events:
                owners.setdefault((event.client_id, event.id), waiting)
        return owners

    async def _commit_alone(self, group: list[_Waiting]) -> None:
        """Each write in its own transaction, in the group's order: a key sent by two of them
        is stored for the first and found stored before by the second."""
        for waiting in group:
            try:
                committed = await self._commit(waiting.events)
            except Exception as error:  # noqa: BLE001 - this caller's own failure
                waiting.settle(error)
            else:
                waiting.settle(committed.answer(waiting.events))

    def _take_group(self) -> list[_Waiting]:
        """Up to `max_events` of the waiting writes, in order, but none of a client that a
        flush under way holds: that flush's transaction holds the client's journal position
        (`EventRepository.add_new`) to its commit, so this one would only wait for it. They
        wait here instead, and the next flush of that client takes them all at once."""
        group: list[_Waiting] = []
        skipped: list[_Waiting] = []
        size = 0
        busy = self._busy
        while self._waiting:
            waiting = self._waiting[0]
            if group and size + len(waiting.events) > self._max_events:
                break
            self._waiting.popleft()
            if busy and not busy.keys().isdisjoint(waiting.clients):
                skipped.append(waiting)
                continue
            group.append(waiting)
            size += len(waiting.events)
        self._waiting.extendleft(reversed(skipped))
        busy.update(client for waiting in group for client in waiting.clients)
        return group

    async def _commit(self, events: Sequence[Event], *, repeats: bool = False) -> _Committed:
        """Stores the events of users who are not suppressed (`add_new` leaves the others
        out). `repeats`: a key may come more than once, and only its first event of a user not
        suppressed is stored."""
        late = late_windows(
            self._size, ((e.client_id, e.occurred_at) for e in events), self._clock.now()
        )
        if late or repeats:
            added, refused = await self._commit_marking(events, late, repeats=repeats)
        else:
            added = await self._store.store_new(events)  # nothing else to do: one step
            refused = added.refused
        await self._feed.publish(added.sequenced)
        return _Committed(stored_before=added.stored_before, refused=refused)

    async def _commit_marking(
        self, events: Sequence[Event], late: set[StaleMark], *, repeats: bool
    ) -> tuple[Added, set[UserKey]]:
        """In one transaction: suppressions looked up first when keys repeat (which event of
        a key is stored depends on them), the events added, and the windows of those stored
        that are late marked stale."""
        async with self._uow() as uow:
            refused: set[UserKey] = set()
            if repeats:
                refused = await uow.suppressions.suppressed_among(
                    {(e.client_id, e.user_id) for e in events}
                )
                if refused:
                    events = [e for e in events if (e.client_id, e.user_id) not in refused]
                events = list({(e.client_id, e.id): e for e in reversed(events)}.values())
            added = await uow.events.add_new(events) if events else Added(set(), [], set())
            refused |= added.refused
            late = self._late(late, events, added.stored_before, refused)
            if late:
                await uow.windows.mark_stale(late)
            await uow.commit()
        return added, refused

    def _late(
        self,
        late: set[StaleMark],
        events: Sequence[Event],
        stored_before: set[EventKey],
        refused: set[UserKey],
    ) -> set[StaleMark]:
        """The clients' windows made stale by the events this transaction stores (not by
        duplicates, nor by refused users' events), of the `late` ones of all of them."""
        if not late or not (stored_before or refused):
            return late  # the common cases, decided without looking at a key
        mine = (
            (e.client_id, e.occurred_at)
            for e in events
            if (e.client_id, e.id) not in stored_before and (e.client_id, e.user_id) not in refused
        )
        return late_windows(self._size, mine, self._clock.now())
