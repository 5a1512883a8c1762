"""The live stream's vocabulary: events at their positions in a client's commit order, and the
bounded inbox a subscriber reads them from.

Positions are dense and in commit order within a client (`stream_positions`, migration 0010,
and the in-memory store alike): when position p is committed, so is every one before it.
A subscriber that sees p + 2 after p knows it missed p + 1, and the journal has it."""

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from tracking.application.views import EventView
from tracking.domain.events import Event


@dataclass(frozen=True, slots=True)
class Sequenced:
    """Events of one client stored by one transaction, at `first`, `first + 1`, ..."""

    client_id: UUID
    first: int
    events: Sequence[Event]


@dataclass(frozen=True, slots=True, eq=False, weakref_slot=True)
class Positioned:
    """An event as the listing shows it, at its position in its client's commit order. One is
    made per process for each event published, and every subscriber gets that one (so an
    entrypoint may keep its encoding beside it, by identity)."""

    position: int
    event: EventView


@dataclass(frozen=True, slots=True)
class JournalBounds:
    """`first`: the oldest position the journal still holds (`last + 1` when it holds none);
    `last`: the client's latest committed position (0 before its first event)."""

    first: int
    last: int


class Published(list[Positioned]):
    """One commit's events of one client as the feed hands them out: the same object to every
    subscriber of the process, so what is done with it once (encoding it) serves them all.
    Known by identity (a key of a weak dictionary), unlike a list."""

    __hash__ = object.__hash__  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        return self is other


class Inbox:
    """What the feed delivered to one subscriber and it has not read yet, at most `capacity`
    events. The feed never waits for a subscriber: one that falls that far behind is marked
    `lagged` and gets nothing more (it resumes from its last position on a new stream)."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._batches: deque[Sequence[Positioned]] = deque()
        self._held = 0
        self._ready = asyncio.Event()
        self.lagged = False
        self.closed = False

    def close(self) -> None:
        """The process is stopping: whoever reads this inbox ends its stream."""
        self.closed = True
        self._ready.set()

    def put(self, batch: Sequence[Positioned]) -> None:
        if self.lagged or not batch:
            return
        if self._held + len(batch) > self._capacity:
            self.lagged = True
            self._batches.clear()
            self._held = 0
        else:
            self._batches.append(batch)
            self._held += len(batch)
        self._ready.set()

    def reopen(self) -> None:
        """Takes events again after a lag, from now on (the caller reads what it missed)."""
        self.lagged = False
        self._batches.clear()
        self._held = 0

    async def take(self, wait: float) -> list[Sequence[Positioned]] | None:
        """The batches delivered so far, waiting up to `wait` seconds for one; None when
        nothing came (or the inbox is lagged or closed: check `lagged` and `closed`)."""
        if not self._batches and not self.lagged and not self.closed:
            self._ready.clear()
            try:
                async with asyncio.timeout(wait):  # no task made, unlike wait_for (3.11)
                    await self._ready.wait()
            except TimeoutError:
                return None
        if self.lagged or self.closed:
            return None
        taken = list(self._batches)
        self._batches.clear()
        self._held = 0
        return taken
