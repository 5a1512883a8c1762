"""StoreQueuedEvents: a queue's batch of any clients' events, checked, then stored in one write."""

from collections.abc import Collection
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.fakes import T0, FixedClock
from tests.unit.support import WriterSpy, register, stats_cache
from tracking.adapters.memory.read_models import InMemoryClientReadModel
from tracking.adapters.memory.store import InMemoryStore
from tracking.application.commands.record_events import RecordedEvents, Rejected
from tracking.application.commands.store_queued_events import (
    QueuedEvent,
    StoreQueuedEvents,
    StoreQueuedEventsHandler,
)
from tracking.application.principal import Principal
from tracking.domain.errors import Category
from tracking.domain.events import METADATA_MAX_BYTES, METADATA_MAX_DEPTH


class CountingClients(InMemoryClientReadModel):
    """The in-memory read model, counting how often clients are looked up."""

    lookups = 0

    async def active_among(self, client_ids: Collection[UUID]) -> dict[UUID, Principal]:
        self.lookups += 1
        return await super().active_among(client_ids)


class Store:
    def __init__(self, store: InMemoryStore, clock: FixedClock) -> None:
        self.writer = WriterSpy(store, clock)
        self.clients = CountingClients(store)
        self._handler = StoreQueuedEventsHandler(
            self.writer, self.clients, clock, timedelta(days=30), stats_cache()
        )

    async def __call__(self, *events: QueuedEvent) -> RecordedEvents:
        return await self._handler(StoreQueuedEvents(events=list(events)))


@pytest.fixture
def store_events(store: InMemoryStore, clock: FixedClock) -> Store:
    return Store(store, clock)


@pytest.fixture
async def acme(store: InMemoryStore) -> UUID:
    return (await register(store, "acme")).client.id


def queued(client_id: UUID, **fields: Any) -> QueuedEvent:
    values: dict[str, Any] = {"id": uuid4(), "user_id": "u1", "action": "click"} | fields
    return QueuedEvent(client_id=client_id, **values)


def error_codes(recorded: RecordedEvents) -> list[str | None]:
    return [r.error.code if isinstance(r, Rejected) else None for r in recorded.results]


async def test_several_clients_are_looked_up_once_and_stored_in_one_write(
    store: InMemoryStore, store_events: Store, acme: UUID
) -> None:
    globex = (await register(store, "globex")).client.id
    events = [queued(acme), queued(globex), queued(acme), queued(globex)]

    recorded = await store_events(*events)

    assert recorded.count("stored") == 4
    assert store_events.clients.lookups == 1
    assert len(store_events.writer.writes) == 1
    assert set(store.events_of(acme)) == {events[0].id, events[2].id}
    assert set(store.events_of(globex)) == {events[1].id, events[3].id}


async def test_an_event_of_an_unknown_or_inactive_client_is_rejected_not_found(
    store: InMemoryStore, store_events: Store, acme: UUID
) -> None:
    retired = (await register(store, "retired")).client
    store.put_client(retired.deactivated())

    recorded = await store_events(queued(acme), queued(uuid4()), queued(retired.id))

    assert [r.status for r in recorded.results] == ["stored", "rejected", "rejected"]
    rejected = [r for r in recorded.results if isinstance(r, Rejected)]
    assert {(r.error.code, r.error.category) for r in rejected} == {
        ("unknown_client", Category.NOT_FOUND)
    }


async def test_results_are_at_each_events_index_and_a_repeat_is_all_duplicates(
    store_events: Store, acme: UUID
) -> None:
    events = [queued(acme), queued(acme, action="no spaces"), queued(acme)]

    first = await store_events(*events)
    again = await store_events(*events)

    assert [(r.index, r.status) for r in first.results] == [
        (0, "stored"),
        (1, "rejected"),
        (2, "stored"),
    ]
    assert [r.status for r in again.results] == ["duplicate", "rejected", "duplicate"]


async def test_the_metadata_is_stored_as_it_was_sent_and_none_or_null_is_an_empty_object(
    store: InMemoryStore, store_events: Store, acme: UUID
) -> None:
    sent = '{"page": "/a", "nested": {"b": [1, 2]}}'
    kept, absent, null = queued(acme, metadata=sent), queued(acme), queued(acme, metadata="null")

    await store_events(kept, absent, null)

    stored = store.events_of(acme)
    assert stored[kept.id].metadata == sent
    assert stored[absent.id].metadata == stored[null.id].metadata == "{}"


@pytest.mark.parametrize(
    ("metadata", "code"),
    [
        (
            '{"a": ' * (METADATA_MAX_DEPTH + 1) + "1" + "}" * (METADATA_MAX_DEPTH + 1),
            "invalid_metadata",
        ),
        ('{"k": "' + "x" * METADATA_MAX_BYTES + '"}', "metadata_too_large"),
        ('{"k": "nul\\u0000"}', "invalid_metadata"),
    ],
    ids=["too-deep", "too-large", "nul"],
)
async def test_metadata_breaking_a_rule_is_rejected_with_that_rule(
    store: InMemoryStore, store_events: Store, acme: UUID, metadata: str, code: str
) -> None:
    recorded = await store_events(queued(acme, metadata=metadata))

    assert error_codes(recorded) == [code]
    assert store.events_of(acme) == {}


async def test_brackets_inside_strings_do_not_count_as_nesting(
    store: InMemoryStore, store_events: Store, acme: UUID
) -> None:
    brackets = '{"text": "' + "[{" * METADATA_MAX_DEPTH + '\\" ]}"}'

    recorded = await store_events(queued(acme, metadata=brackets))

    assert recorded.count("stored") == 1


async def test_metadata_over_the_limit_only_with_its_whitespace_is_stored_compacted(
    store: InMemoryStore, store_events: Store, acme: UUID
) -> None:
    spaced = "{" + " " * METADATA_MAX_BYTES + '"k": 1}'
    event = queued(acme, metadata=spaced)

    recorded = await store_events(event)

    assert recorded.count("stored") == 1
    assert store.events_of(acme)[event.id].metadata == '{"k":1}'


async def test_the_receipt_time_is_the_queues_or_now_and_the_future_is_judged_from_it(
    store: InMemoryStore, store_events: Store, acme: UUID
) -> None:
    earlier = T0 - timedelta(hours=1)
    stamped = queued(acme, received_at=earlier)
    unstamped = queued(acme)
    ahead = queued(acme, received_at=earlier, occurred_at=earlier + timedelta(minutes=6))

    recorded = await store_events(stamped, unstamped, ahead)

    stored = store.events_of(acme)
    assert (stored[stamped.id].received_at, stored[unstamped.id].received_at) == (earlier, T0)
    assert error_codes(recorded) == [None, None, "occurred_at_in_future"]


@pytest.mark.parametrize(
    "metadata", ['{"a": 1} {"b": 2}', '{"a": 1}, "client_id": "x"', '{"a": '], ids=str
)
async def test_metadata_that_is_not_exactly_one_json_object_is_rejected(
    store: InMemoryStore, store_events: Store, acme: UUID, metadata: str
) -> None:
    recorded = await store_events(queued(acme, metadata=metadata))

    assert error_codes(recorded) == ["invalid_metadata"]
    assert store.events_of(acme) == {}


async def test_an_event_is_judged_old_against_its_receipt_not_against_the_drain(
    store_events: Store, acme: UUID
) -> None:
    """A backlog drained weeks later is stored; an event already too old when the queue
    received it is refused with the rule's code, so it becomes a dead letter."""
    received = T0 - timedelta(days=40)

    recorded = await store_events(
        queued(acme, occurred_at=received - timedelta(days=29), received_at=received),
        queued(acme, occurred_at=received - timedelta(days=31), received_at=received),
        queued(acme, occurred_at="2025-10-23T11:59:59.9999999Z"),
    )

    assert error_codes(recorded) == [None, "occurred_at_too_old", None]
    assert recorded.results[2].status == "stored"


async def test_times_in_a_queued_event_are_read_as_http_reads_them(
    store: InMemoryStore, store_events: Store, acme: UUID
) -> None:
    recorded = await store_events(
        queued(acme, occurred_at="2025-10-23T11:59:59.9999999Z", received_at="2025-10-23T12:00Z"),
        queued(acme, occurred_at="2025-10-23T11:00:00Z", received_at="2025-10-23T12:00:00Z"),
    )

    assert error_codes(recorded) == ["invalid_received_at", None]
    [stored] = store.events_of(acme).values()
    assert stored.received_at.isoformat() == "2025-10-23T12:00:00+00:00"
