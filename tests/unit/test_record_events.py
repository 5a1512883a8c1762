"""RecordEvents: each item is stored, reported as a duplicate, or rejected with its rule."""

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.fakes import T0, FixedClock
from tests.unit.support import WriterSpy, recorder
from tracking.adapters.memory.store import InMemoryStore
from tracking.adapters.system import UuidV7Generator
from tracking.application.commands.record_events import (
    ItemResult,
    NewEvent,
    RecordEvents,
    RecordEventsHandler,
    Rejection,
)
from tracking.application.ports import EventKey, EventWriter
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

    assert results == [ItemResult(index=0, id=event_id, status="stored")]
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

    assert results == [ItemResult(index=0, id=event_id, status="duplicate")]
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

    assert result.status == "rejected"
    assert result.error is not None
    assert (result.error.code, result.error.field) == (code, field)
    assert result.error.message
    assert store.events_of(CLIENT) == {}


async def test_a_rejected_item_reports_the_id_it_was_sent_with(
    store: InMemoryStore, clock: FixedClock
) -> None:
    event_id = uuid4()

    [result] = await send(store, clock, click(event_id, user_id=""))

    assert result.id == event_id
    assert result.error == Rejection(
        code="invalid_user_id", field="user_id", message="must be 1 to 128 characters long"
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


# Several clients in one write (a Kafka batch), and writers that queue instead of storing


class QueueingWriter(EventWriter):
    """Hands events to a queue, as Kafka-backed HTTP ingest does: nothing is known stored."""

    def __init__(self) -> None:
        self.writes: list[list[Event]] = []

    async def write(self, events: Sequence[Event]) -> set[EventKey] | None:
        self.writes.append(list(events))
        return None


async def test_record_all_stores_several_clients_in_one_write_and_answers_each(
    store: InMemoryStore, clock: FixedClock
) -> None:
    other_client = uuid4()
    a1, a2, b1, seen = uuid4(), uuid4(), uuid4(), uuid4()
    await send(store, clock, click(seen))
    writer = WriterSpy(store, clock)
    handler = RecordEventsHandler(writer, clock, UuidV7Generator())

    answers = await handler.record_all(
        [
            RecordEvents(client_id=CLIENT, events=[click(a1), click(seen), click(a2)]),
            RecordEvents(client_id=other_client, events=[click(b1), click(a1, user_id="")]),
        ]
    )

    assert [[(r.id, r.status) for r in a.results] for a in answers] == [
        [(a1, "stored"), (seen, "duplicate"), (a2, "stored")],
        [(b1, "stored"), (a1, "rejected")],
    ]
    assert len(writer.writes) == 1
    assert {(e.client_id, e.id) for e in writer.writes[0]} == {
        (CLIENT, a1),
        (CLIENT, seen),
        (CLIENT, a2),
        (other_client, b1),
    }
    assert set(store.events_of(CLIENT)) == {seen, a1, a2}
    assert set(store.events_of(other_client)) == {b1}


async def test_record_all_with_nothing_valid_writes_nothing(
    store: InMemoryStore, clock: FixedClock
) -> None:
    writer = WriterSpy(store, clock)
    handler = RecordEventsHandler(writer, clock, UuidV7Generator())

    answers = await handler.record_all(
        [
            RecordEvents(client_id=CLIENT, events=[click(user_id="")]),
            RecordEvents(client_id=uuid4(), events=[]),
        ]
    )

    assert [[r.status for r in a.results] for a in answers] == [["rejected"], []]
    assert writer.writes == []


async def test_a_writer_that_queues_makes_valid_items_accepted_and_rejected_ones_stay(
    clock: FixedClock,
) -> None:
    writer = QueueingWriter()
    handler = RecordEventsHandler(writer, clock, UuidV7Generator())
    good, bad, again = uuid4(), uuid4(), uuid4()

    answers = await handler.record_all(
        [
            RecordEvents(
                client_id=CLIENT,
                events=[
                    click(good),
                    NewEvent(id=bad, user_id="u", action="no spaces"),
                    click(again),
                    click(again),
                ],
            ),
            RecordEvents(client_id=uuid4(), events=[click(user_id="")]),
        ]
    )

    assert [[(r.id, r.status) for r in a.results] for a in answers] == [
        [(good, "accepted"), (bad, "rejected"), (again, "accepted"), (again, "duplicate")],
        [(None, "rejected")],
    ]
    rejected = answers[0].results[1]
    assert rejected.error is not None
    assert rejected.error.code == "invalid_action"
    assert answers[0].count("accepted") == 2
    assert [[e.id for e in w] for w in writer.writes] == [[good, again]]


async def test_an_item_without_id_handed_to_a_queue_is_accepted_with_its_new_id(
    clock: FixedClock,
) -> None:
    writer = QueueingWriter()

    recorded = await RecordEventsHandler(writer, clock, UuidV7Generator())(
        RecordEvents(client_id=CLIENT, events=[click()])
    )

    [result] = recorded.results
    [[queued]] = writer.writes
    assert (result.status, result.id) == ("accepted", queued.id)
    assert queued.id.version == 7


async def test_a_receipt_time_given_with_the_item_is_stored_instead_of_now(
    store: InMemoryStore, clock: FixedClock
) -> None:
    received = T0 - timedelta(minutes=30)
    stamped, unstamped = uuid4(), uuid4()

    await send(store, clock, click(stamped, received_at=received), click(unstamped))

    stored = store.events_of(CLIENT)
    assert (stored[stamped].received_at, stored[stamped].occurred_at) == (received, received)
    assert (stored[unstamped].received_at, stored[unstamped].occurred_at) == (T0, T0)


async def test_the_future_is_judged_from_the_given_receipt_time_not_from_now(
    store: InMemoryStore, clock: FixedClock
) -> None:
    received = T0 - timedelta(hours=1)
    item = click(received_at=received, occurred_at=received + timedelta(minutes=6))

    [result] = await send(store, clock, item)

    assert result.error is not None
    assert result.error.code == "occurred_at_in_future"
