"""The stream's rule, over the in-memory journal with a feed the test drives: whatever the feed
loses, repeats or reorders, a subscriber gets each committed position once, in order."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from tests.fakes import FixedClock
from tracking.adapters.memory.store import InMemoryStore
from tracking.adapters.memory.stream import InMemoryEventFeed, InMemoryEventJournal
from tracking.adapters.memory.unit_of_work import InMemoryUnitOfWork
from tracking.application.errors import TooManyStreams
from tracking.application.principal import CredentialKind, Principal
from tracking.application.queries.stream_events import (
    Delivered,
    Lagged,
    Quiet,
    StreamEvents,
    StreamEventsHandler,
    StreamLimits,
    StreamMessage,
)
from tracking.application.stream import Positioned, Published, Sequenced
from tracking.application.views import event_view
from tracking.domain.clients import Role
from tracking.domain.events import Event

T0 = datetime(2026, 12, 3, tzinfo=UTC)


def actor(client_id: UUID) -> Principal:
    return Principal(
        client_id=client_id,
        role=Role.CLIENT,
        credential=CredentialKind.API_KEY,
        rate_limit_per_minute=1000,
        events_per_minute=1000,
    )


async def commit(store: InMemoryStore, client_id: UUID, count: int) -> Sequenced:
    """Stored and journaled, and not published: the feed is the test's."""
    events = [
        Event(
            id=uuid4(),
            client_id=client_id,
            user_id="u",
            action="a",
            occurred_at=T0,
            received_at=T0,
            metadata="{}",
        )
        for _ in range(count)
    ]
    async with InMemoryUnitOfWork(store) as uow:
        (sequenced,) = (await uow.events.add_new(events)).sequenced
        await uow.commit()
    return sequenced


def positioned(batch: Sequenced) -> Published:
    return Published(Positioned(batch.first + i, event_view(e)) for i, e in enumerate(batch.events))


class Subscriber:
    def __init__(self, messages: AsyncIterator[StreamMessage]) -> None:
        self._messages = messages
        self.positions: list[int] = []

    async def until(self, position: int) -> None:
        while not self.positions or self.positions[-1] < position:
            message = await asyncio.wait_for(anext(self._messages), 5)
            if isinstance(message, Delivered):
                self.positions += [e.position for e in message.events]


def handler(store: InMemoryStore, feed: InMemoryEventFeed, **limits: float) -> StreamEventsHandler:
    return StreamEventsHandler(
        feed,
        InMemoryEventJournal(store),
        FixedClock(T0),
        StreamLimits(**limits),  # type: ignore[arg-type]
    )


async def test_lost_repeated_and_reordered_messages_still_give_each_position_once() -> None:
    store, feed, client = InMemoryStore(), InMemoryEventFeed(), uuid4()
    stream = handler(store, feed).open(StreamEvents(actor=actor(client)))
    subscriber = Subscriber(stream)
    first_message = asyncio.ensure_future(anext(stream))  # subscribes, then waits
    await asyncio.sleep(0.01)  # subscribed, caught up, waiting for the feed
    one, _two, three, four = [await commit(store, client, 3) for _ in range(4)]
    # `_two` is lost, `four` comes before `three`, and `one` comes twice.
    for batch in (one, four, one, three):
        feed.deliver(client, positioned(batch))
    message = await first_message
    assert isinstance(message, Delivered)
    subscriber.positions = [e.position for e in message.events]
    await subscriber.until(12)
    assert subscriber.positions == list(range(1, 13))


async def test_a_quiet_stream_finds_what_no_message_told_it_at_its_heartbeat() -> None:
    store, feed, client = InMemoryStore(), InMemoryEventFeed(), uuid4()
    stream = handler(store, feed, heartbeat_seconds=0.05).open(StreamEvents(actor=actor(client)))
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.01)  # subscribed, caught up, waiting for the feed
    await commit(store, client, 2)  # committed, never published (its process died, say)
    message = await waiting
    while isinstance(message, Quiet):
        message = await anext(stream)
    assert isinstance(message, Delivered)
    assert [e.position for e in message.events] == [1, 2]


async def test_a_slow_subscriber_is_lagged_with_the_last_position_it_got() -> None:
    store, feed, client = InMemoryStore(), InMemoryEventFeed(), uuid4()
    stream = handler(store, feed, capacity=4).open(StreamEvents(actor=actor(client)))
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.01)  # subscribed, caught up, waiting for the feed
    feed.deliver(client, positioned(await commit(store, client, 2)))
    first = await waiting
    assert isinstance(first, Delivered)
    feed.deliver(client, positioned(await commit(store, client, 3)))
    feed.deliver(client, positioned(await commit(store, client, 3)))  # 6 waiting: over 4
    assert await anext(stream) == Lagged(position=2)


async def test_positions_are_dense_per_client_in_commit_order() -> None:
    store, a, b = InMemoryStore(), uuid4(), uuid4()
    batches = [await commit(store, client, 2) for client in (a, b, a, a, b)]
    assert [(s.client_id, s.first) for s in batches] == [(a, 1), (b, 1), (a, 3), (a, 5), (b, 3)]
    assert store.stream_last == {a: 6, b: 4}


async def test_a_rolled_back_transaction_takes_no_position() -> None:
    store, client = InMemoryStore(), uuid4()
    stored = await commit(store, client, 1)
    async with InMemoryUnitOfWork(store) as uow:
        await uow.events.add_new([stored.events[0]._replace(id=uuid4())])  # never committed
    assert (await commit(store, client, 1)).first == 2


async def test_a_stream_never_iterated_holds_no_slot_of_its_client() -> None:
    store, feed, client = InMemoryStore(), InMemoryEventFeed(), uuid4()
    streams = handler(store, feed, per_client=2)
    for _ in range(5):
        streams.open(StreamEvents(actor=actor(client)))  # its client went away at once
    first = streams.open(StreamEvents(actor=actor(client)))
    second = streams.open(StreamEvents(actor=actor(client)))
    waiting = [asyncio.ensure_future(anext(first)), asyncio.ensure_future(anext(second))]
    await asyncio.sleep(0.01)
    assert streams.opened(client) == 2
    with pytest.raises(TooManyStreams):
        streams.open(StreamEvents(actor=actor(client)))
    for task in waiting:
        task.cancel()


async def test_the_feed_joins_what_comes_within_its_gather_into_one_batch_for_all() -> None:
    store, feed, client = InMemoryStore(), InMemoryEventFeed(gather_seconds=0.05), uuid4()
    one, two, _lost, four = [await commit(store, client, 2) for _ in range(4)]
    async with feed.subscribe(client, 100) as first, feed.subscribe(client, 100) as second:
        for batch in (one, two, four):
            feed.deliver(client, positioned(batch))
        assert await first.take(0.01) is None  # still gathering
        taken = await first.take(1)
        assert taken is not None
        assert [[e.position for e in batch] for batch in taken] == [[1, 2, 3, 4], [7, 8]]
        again = await second.take(0)
        assert again is not None
        assert all(a is b for a, b in zip(taken, again, strict=True))  # encoded once for all
