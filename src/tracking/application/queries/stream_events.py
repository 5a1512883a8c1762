"""StreamEvents: a tenant's events as they are committed, resumable from any position.

The subscriber's inbox is opened first, then the journal's bounds are read: whatever commits
after that read reaches the inbox, whatever committed before is in the journal. From then on
the stream delivers position `next`, then `next + 1`, and so on: from the journal while it is
behind, from the inbox once it has caught up. Positions are dense and in commit order, so a
message whose first position is beyond `next` shows that something was missed (a lost
message), and it is read from the journal before the message is delivered; what comes again
(an event both replayed and published) is below `next` and skipped. A quiet stream asks the
journal once per heartbeat whether anything committed that it was not told of. Each event is
thus delivered once, in commit order, however messages are lost, delayed or repeated."""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import msgspec

from tracking.application.errors import TooManyStreams
from tracking.application.pagination import tenant_of
from tracking.application.ports import Clock, EventFeed, EventJournal
from tracking.application.principal import Principal
from tracking.application.stream import Inbox, Positioned
from tracking.domain.errors import InvalidInput

PAGE = 500
"""Positions read from the journal at a time while replaying."""
CATCH_UPS = 3
"""Times a resuming stream reads on from the journal when its inbox filled while it replayed;
still behind after that, it is lagged (it reads slower than its client writes)."""


class StreamEvents(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`after`: the last position the subscriber has (its Last-Event-ID); None for live only."""

    actor: Principal
    client_id: UUID | None = None
    user_id: str | None = None
    action: str | None = None
    after: int | None = None


@dataclass(frozen=True, slots=True)
class Delivered:
    events: Sequence[Positioned]
    """Never empty."""


@dataclass(frozen=True, slots=True)
class Reset:
    """The positions after the subscriber's, up to `resumed_after`, left the replay horizon:
    the stream goes on after `resumed_after`."""

    resumed_after: int


@dataclass(frozen=True, slots=True)
class Lagged:
    """The subscriber fell `capacity` events behind: the stream ends; resuming from `position`
    (the last delivered) loses nothing."""

    position: int


@dataclass(frozen=True, slots=True)
class Closing:
    """The process is stopping: the stream ends (its subscriber resumes elsewhere)."""


@dataclass(frozen=True, slots=True)
class Quiet:
    """Nothing for a heartbeat: a sign of life for proxies."""


StreamMessage = Delivered | Reset | Lagged | Closing | Quiet


@dataclass(frozen=True, slots=True)
class StreamLimits:
    capacity: int = 1000
    """Events an inbox holds for a subscriber that is slow to read them."""
    heartbeat_seconds: float = 15.0
    per_client: int = 5
    """Concurrent streams of one client, in this process."""
    replay: timedelta = timedelta(hours=24)
    """How long the journal keeps what it was told: the horizon a stream resumes within."""


class StreamEventsHandler:
    def __init__(
        self, feed: EventFeed, journal: EventJournal, clock: Clock, limits: StreamLimits
    ) -> None:
        self._feed = feed
        self._journal = journal
        self._clock = clock
        self._limits = limits
        self._open: dict[UUID, int] = {}
        self._inboxes: set[Inbox] = set()

    def close_all(self) -> None:
        """Ends every stream of this process (it is stopping), each after what it holds."""
        for inbox in self._inboxes:
            inbox.close()

    async def trim(self) -> int:
        """Drops what the journal holds beyond the replay horizon; the rows dropped. (Run by
        every `serve` process, every few minutes: idempotent, so any number may.)"""
        return await self._journal.forget_before(self._clock.now() - self._limits.replay)

    def open(self, query: StreamEvents) -> AsyncIterator[StreamMessage]:
        """Checked now (the tenant, the position, the number of streams); runs when iterated.
        A stream counts against its client's limit while it runs: one never iterated (its
        client went away first, or asked HEAD) holds nothing."""
        tenant = tenant_of(query.actor, query.client_id, "events")
        if query.after is not None and query.after < 0:
            raise InvalidInput("invalid_last_event_id", "Last-Event-ID is a position: 0 or more")
        if self._open.get(tenant, 0) >= self._limits.per_client:
            raise TooManyStreams(
                "too_many_streams",
                f"a client may have {self._limits.per_client} streams open at once: close one",
            )
        return self._messages(tenant, query)

    async def _messages(self, tenant: UUID, query: StreamEvents) -> AsyncIterator[StreamMessage]:
        if self._open.get(tenant, 0) >= self._limits.per_client:
            # Others started between the check and now (the same instant): this one ends at
            # once, and its subscriber's reconnection meets the check.
            yield Closing()
            return
        self._open[tenant] = self._open.get(tenant, 0) + 1
        try:
            async with self._feed.subscribe(tenant, self._limits.capacity) as inbox:
                self._inboxes.add(inbox)
                try:
                    async for message in _Follow(self, tenant, query, inbox).messages():
                        yield message
                finally:
                    self._inboxes.discard(inbox)
        finally:
            self._open[tenant] -= 1
            if not self._open[tenant]:
                del self._open[tenant]

    def opened(self, tenant: UUID) -> int:
        return self._open.get(tenant, 0)


class _Follow:
    def __init__(
        self, handler: StreamEventsHandler, tenant: UUID, query: StreamEvents, inbox: Inbox
    ) -> None:
        self._journal = handler._journal  # noqa: SLF001 - its own helper
        self._heartbeat = handler._limits.heartbeat_seconds  # noqa: SLF001
        self._tenant = tenant
        self._query = query
        self._inbox = inbox
        self._next = 1
        self._everything = query.user_id is None and query.action is None

    async def messages(self) -> AsyncIterator[StreamMessage]:
        async for caught_up in self._catch_up():
            yield caught_up
        while True:
            taken = await self._inbox.take(self._heartbeat)
            if self._inbox.closed:
                yield Closing()
                return
            if self._inbox.lagged:
                yield Lagged(position=self._next - 1)
                return
            if taken is None:
                async for delivered in self._replay(await self._last()):
                    yield delivered
                yield Quiet()
                continue
            async for delivered in self._deliver(taken):
                yield delivered

    async def _catch_up(self) -> AsyncIterator[Delivered | Reset]:
        """From the subscriber's position to the journal's end, the inbox open all along."""
        bounds = await self._journal.bounds(self._tenant)
        after = self._query.after
        if after is None or after >= bounds.last:
            self._next = bounds.last + 1
        elif after + 1 < bounds.first:
            yield Reset(resumed_after=bounds.first - 1)
            self._next = bounds.first
        else:
            self._next = after + 1
        async for delivered in self._replay(bounds.last):
            yield delivered
        for _ in range(CATCH_UPS):
            # A long replay may have filled the inbox: what it dropped is in the journal.
            if not self._inbox.lagged:
                break
            self._inbox.reopen()
            async for delivered in self._replay(await self._last()):
                yield delivered

    async def _last(self) -> int:
        return (await self._journal.bounds(self._tenant)).last

    async def _deliver(self, taken: list[Sequence[Positioned]]) -> AsyncIterator[Delivered]:
        for batch in taken:
            if self._everything and batch[0].position == self._next:
                self._next += len(batch)  # the usual case: what came next, all wanted
                yield Delivered(batch)
                continue
            async for delivered in self._deliver_each(batch):
                yield delivered

    async def _deliver_each(self, batch: Sequence[Positioned]) -> AsyncIterator[Delivered]:
        fresh: list[Positioned] = []
        for event in batch:
            if event.position < self._next:
                continue  # delivered already
            if event.position > self._next:
                if fresh:
                    yield Delivered(fresh)
                    fresh = []
                async for delivered in self._replay(event.position - 1):
                    yield delivered
                self._next = event.position
            self._next += 1
            if self._wanted(event):
                fresh.append(event)
        if fresh:
            yield Delivered(fresh)

    async def _replay(self, through: int) -> AsyncIterator[Delivered]:
        """From the journal: every position from `next` through `through`."""
        while self._next <= through:
            upto = min(through, self._next - 1 + PAGE)
            events = await self._journal.since(self._tenant, self._next - 1, upto)
            self._next = upto + 1
            wanted = [e for e in events if self._wanted(e)]
            if wanted:
                yield Delivered(wanted)

    def _wanted(self, event: Positioned) -> bool:
        query = self._query
        return (query.user_id is None or event.event.user_id == query.user_id) and (
            query.action is None or event.event.action == query.action
        )
