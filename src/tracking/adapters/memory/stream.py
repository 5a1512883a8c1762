"""The live stream in one process: the journal kept in the store, and the feed handing each
committed batch to this process's subscribers (also the local half of the Redis feed)."""

import asyncio
import bisect
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from uuid import UUID

from tracking.adapters.memory.store import InMemoryStore
from tracking.application.ports import EventFeed, EventJournal
from tracking.application.stream import Inbox, JournalBounds, Positioned, Published, Sequenced
from tracking.application.views import event_view


class InMemoryEventJournal(EventJournal):
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def bounds(self, client_id: UUID) -> JournalBounds:
        last = self._store.stream_last.get(client_id, 0)
        entries = self._store.journal.get(client_id)
        return JournalBounds(first=entries[0][0] if entries else last + 1, last=last)

    async def since(self, client_id: UUID, after: int, through: int) -> list[Positioned]:
        entries = self._store.journal.get(client_id, [])
        start = bisect.bisect_right(entries, after, key=lambda entry: entry[0])
        end = bisect.bisect_right(entries, through, key=lambda entry: entry[0])
        events = self._store.events_of(client_id)
        return [
            Positioned(position, event_view(events[event_id]))
            for position, event_id, _ in entries[start:end]
            if event_id in events  # else erased since
        ]

    async def forget_before(self, committed_before: datetime) -> int:
        forgotten = 0
        for client_id, entries in self._store.journal.items():
            kept = bisect.bisect_left(entries, committed_before, key=lambda entry: entry[2])
            forgotten += kept
            self._store.journal[client_id] = entries[kept:]
        return forgotten


class InMemoryEventFeed(EventFeed):
    """`gather_seconds`: after a batch comes for a client, how long more the feed waits for
    others before it hands them to that client's subscribers, the batches that follow each
    other joined into one. What it adds to the latency buys one wake-up and one write per
    subscriber for all that came meanwhile (each batch would be one of each)."""

    def __init__(self, gather_seconds: float = 0.0) -> None:
        self._gather = gather_seconds
        self._inboxes: dict[UUID, set[Inbox]] = {}
        self._gathered: dict[UUID, list[Sequence[Positioned]]] = {}

    async def publish(self, sequenced: Sequence[Sequenced]) -> None:
        for batch in sequenced:
            if batch.client_id in self._inboxes:
                self.deliver(
                    batch.client_id,
                    Published(
                        Positioned(batch.first + i, event_view(e))
                        for i, e in enumerate(batch.events)
                    ),
                )

    def deliver(self, client_id: UUID, events: Sequence[Positioned]) -> None:
        if not self._gather:
            self._hand_over(client_id, [events])
            return
        gathered = self._gathered.get(client_id)
        if gathered is None:
            self._gathered[client_id] = [events]
            asyncio.get_running_loop().call_later(self._gather, self._gathered_for, client_id)
        else:
            gathered.append(events)

    def _gathered_for(self, client_id: UUID) -> None:
        self._hand_over(client_id, self._gathered.pop(client_id, []))

    def _hand_over(self, client_id: UUID, batches: list[Sequence[Positioned]]) -> None:
        inboxes = self._inboxes.get(client_id, ())
        if inboxes:
            for joined in _joined(batches):
                for inbox in inboxes:
                    inbox.put(joined)

    def listened(self) -> set[UUID]:
        """The clients with a subscriber in this process."""
        return set(self._inboxes)

    @contextlib.asynccontextmanager
    async def subscribe(self, client_id: UUID, capacity: int) -> AsyncIterator[Inbox]:
        inbox = Inbox(capacity)
        self._inboxes.setdefault(client_id, set()).add(inbox)
        try:
            yield inbox
        finally:
            inboxes = self._inboxes[client_id]
            inboxes.discard(inbox)
            if not inboxes:
                del self._inboxes[client_id]


def _joined(batches: list[Sequence[Positioned]]) -> list[Sequence[Positioned]]:
    """Runs of batches whose positions follow each other, each run one batch (the same
    object for every subscriber); a gap or a repeat starts a new one, so that a subscriber
    still sees where the positions jump."""
    if len(batches) == 1:
        return batches
    runs: list[Sequence[Positioned]] = []
    run = Published()
    for batch in batches:
        if not batch:
            continue
        if run and batch[0].position != run[-1].position + 1:
            runs.append(run)
            run = Published()
        run.extend(batch)
    if run:
        runs.append(run)
    return runs
