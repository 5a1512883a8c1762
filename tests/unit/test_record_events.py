"""RecordEvents: each item is stored, reported as a duplicate, or rejected with its rule."""

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.fakes import T0, FixedClock
from tests.unit.support import recorder, stats_cache
from tracking.adapters.memory.store import InMemoryStore
from tracking.adapters.system import UuidV7Generator
from tracking.application.commands.record_events import (
    ItemResult,
    NewEvent,
    Recorded,
    RecordEvents,
    RecordEventsHandler,
    Rejected,
)
from tracking.application.ports import EventWriter, Queued
from tracking.domain.errors import RuleViolation
from tracking.domain.events import Event

CLIENT = uuid4()


def click(id_: UUID | None = None, **fields: Any) -> NewEvent:
    return NewEvent(id=id_, user_id=fields.pop("user_id", "u1"), action="click", **fields)


async def send(
    store: InMemoryStore, clock: FixedClock, *events: NewEvent, client_id: UUID = CLIENT
) -> list[ItemResult]:
    command = RecordEvents(client_id=client_id, events=list(events))
    return (await recorder(store, clock)(command)).results


async def test_a_valid_event_is_stored_with_its_values(
    store: InMemoryStore, clock: FixedClock
) -> None:
    event_id = uuid4()
    occurred = datetime(2025, 10, 23, 13, 0, tzinfo=timezone(timedelta(hours=2)))
    item = NewEvent(
        id=event_id, user_id=321, action="page.view", occurred_at=occurred, metadata={"a": [1]}
    )

    results = await send(store, clock, item)

    assert results == [Recorded(index=0, id=event_id, status="stored")]
    assert store.events_of(CLIENT) == {
        event_id: Event(
            id=event_id,
            client_id=CLIENT,
            user_id="321",
            action="page.view",
            occurred_at=datetime(2025, 10, 23, 11, 0, tzinfo=UTC),
            received_at=T0,
            metadata='{"a":[1]}',
        )
    }


async def test_an_event_without_id_gets_a_time_ordered_one_and_defaults(
    store: InMemoryStore, clock: FixedClock
) -> None:
    [result] = await send(store, clock, click())

    assert result.status == "stored"
    assert result.id is not None
    assert result.id.version == 7
    stored = store.events_of(CLIENT)[result.id]
    assert (stored.occurred_at, stored.received_at, stored.metadata) == (T0, T0, "{}")


async def test_the_same_id_sent_again_is_a_duplicate_and_the_first_is_kept(
    store: InMemoryStore, clock: FixedClock
) -> None:
    event_id = uuid4()
    await send(store, clock, click(event_id, user_id="first"))
    clock.advance(timedelta(minutes=1))

    results = await send(store, clock, click(event_id, user_id="second"))

    assert results == [Recorded(index=0, id=event_id, status="duplicate")]
    assert [e.user_id for e in store.events_of(CLIENT).values()] == ["first"]


async def test_the_same_id_twice_in_one_batch_stores_the_first_only(
    store: InMemoryStore, clock: FixedClock
) -> None:
    event_id = uuid4()

    results = await send(
        store, clock, click(event_id, user_id="first"), click(event_id, user_id="second")
    )

    assert [r.status for r in results] == ["stored", "duplicate"]
    assert [r.id for r in results] == [event_id, event_id]
    assert [e.user_id for e in store.events_of(CLIENT).values()] == ["first"]


@pytest.mark.parametrize(
    ("item", "code", "field"),
    [
        (NewEvent(user_id="", action="click"), "invalid_user_id", "user_id"),
        (NewEvent(user_id=True, action="click"), "invalid_user_id", "user_id"),
        (NewEvent(user_id="u", action="no spaces"), "invalid_action", "action"),
        (
            NewEvent(user_id="u", action="a", occurred_at=T0 + timedelta(minutes=6)),
            "occurred_at_in_future",
            "occurred_at",
        ),
        (
            NewEvent(user_id="u", action="a", occurred_at=datetime(2025, 1, 1)),  # noqa: DTZ001
            "invalid_occurred_at",
            "occurred_at",
        ),
        (
            NewEvent(user_id="u", action="a", metadata={"k": "x" * 16384}),
            "metadata_too_large",
            "metadata",
        ),
        (
            NewEvent(user_id="u", action="a", metadata={"k": "nul\x00"}),
            "invalid_metadata",
            "metadata",
        ),
    ],
)
async def test_an_invalid_event_is_rejected_with_its_rule_and_nothing_is_stored(
    store: InMemoryStore, clock: FixedClock, item: NewEvent, code: str, field: str
) -> None:
    [result] = await send(store, clock, item)

    assert isinstance(result, Rejected)
    assert isinstance(result.error, RuleViolation)
    assert (result.error.code, result.error.field) == (code, field)
    assert result.error.message
    assert store.events_of(CLIENT) == {}


async def test_a_rejected_item_reports_the_id_it_was_sent_with(
    store: InMemoryStore, clock: FixedClock
) -> None:
    event_id = uuid4()

    [result] = await send(store, clock, click(event_id, user_id=""))

    assert result.id == event_id
    assert isinstance(result, Rejected)
    assert isinstance(result.error, RuleViolation)
    assert (result.error.code, result.error.field, result.error.message) == (
        "invalid_user_id",
        "user_id",
        "must be 1 to 128 characters long",
    )


async def test_valid_items_of_a_batch_are_stored_although_others_are_rejected(
    store: InMemoryStore, clock: FixedClock
) -> None:
    good, bad, also_good = uuid4(), uuid4(), uuid4()

    results = await send(store, clock, click(good), click(bad, user_id=""), click(also_good))

    assert [(r.index, r.id, r.status) for r in results] == [
        (0, good, "stored"),
        (1, bad, "rejected"),
        (2, also_good, "stored"),
    ]
    assert set(store.events_of(CLIENT)) == {good, also_good}


async def test_an_id_rejected_first_can_still_be_stored_later_in_the_batch(
    store: InMemoryStore, clock: FixedClock
) -> None:
    event_id = uuid4()

    results = await send(store, clock, click(event_id, user_id=""), click(event_id))

    assert [r.status for r in results] == ["rejected", "stored"]
    assert set(store.events_of(CLIENT)) == {event_id}


async def test_duplicates_are_per_client_so_two_clients_may_use_one_id(
    store: InMemoryStore, clock: FixedClock
) -> None:
    event_id, other_client = uuid4(), uuid4()

    first = await send(store, clock, click(event_id, user_id="a"))
    second = await send(store, clock, click(event_id, user_id="b"), client_id=other_client)

    assert [r.status for r in first + second] == ["stored", "stored"]
    assert store.events_of(CLIENT)[event_id].user_id == "a"
    assert store.events_of(other_client)[event_id].user_id == "b"


async def test_concurrent_sends_of_one_batch_store_each_event_exactly_once(
    store: InMemoryStore, clock: FixedClock
) -> None:
    event_ids = [uuid4() for _ in range(20)]
    batch = [click(event_id) for event_id in event_ids]

    answers = await asyncio.gather(*(send(store, clock, *batch) for _ in range(8)))

    stored = [r.id for results in answers for r in results if r.status == "stored"]
    assert Counter(stored) == Counter(event_ids)
    assert all(r.status in {"stored", "duplicate"} for results in answers for r in results)
    assert set(store.events_of(CLIENT)) == set(event_ids)


# A writer that queues instead of storing


class QueueingWriter(EventWriter):
    """Hands events to a queue, as Kafka-backed HTTP ingest does: nothing is known stored."""

    def __init__(self) -> None:
        self.writes: list[list[Event]] = []

    async def write(self, events: Sequence[Event]) -> Queued:
        self.writes.append(list(events))
        return Queued()


async def test_a_writer_that_queues_makes_valid_items_accepted_and_rejected_ones_stay(
    clock: FixedClock,
) -> None:
    writer = QueueingWriter()
    handler = RecordEventsHandler(writer, clock, UuidV7Generator(), None, stats_cache())
    good, bad, again = uuid4(), uuid4(), uuid4()

    answer = await handler(
        RecordEvents(
            client_id=CLIENT,
            events=[
                click(good),
                NewEvent(id=bad, user_id="u", action="no spaces"),
                click(again),
                click(again),
            ],
        )
    )

    assert [(r.id, r.status) for r in answer.results] == [
        (good, "accepted"),
        (bad, "rejected"),
        (again, "accepted"),
        (again, "duplicate"),
    ]
    rejected = answer.results[1]
    assert isinstance(rejected, Rejected)
    assert rejected.error.code == "invalid_action"
    assert [[e.id for e in write] for write in writer.writes] == [[good, again]]


async def test_an_item_without_id_handed_to_a_queue_is_accepted_with_its_new_id(
    clock: FixedClock,
) -> None:
    writer = QueueingWriter()

    recorded = await RecordEventsHandler(writer, clock, UuidV7Generator(), None, stats_cache())(
        RecordEvents(client_id=CLIENT, events=[click()])
    )

    [result] = recorded.results
    [[queued]] = writer.writes
    assert (result.status, result.id) == ("accepted", queued.id)
    assert queued.id.version == 7
