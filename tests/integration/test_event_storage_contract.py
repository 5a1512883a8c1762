"""The event ports' contract: every storage adapter must pass the same tests."""

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from tests.integration.storage import Storage
from tracking.adapters.system import UuidV7Generator
from tracking.application.views import EventCriteria, Order
from tracking.domain.events import Event

T0 = datetime(2025, 10, 23, 12, 0, tzinfo=UTC)
ids = UuidV7Generator()


def event(client_id: UUID, *, at: datetime = T0, user_id: str = "u1", action: str = "a") -> Event:
    return Event(
        id=ids.new_id(),
        client_id=client_id,
        user_id=user_id,
        action=action,
        occurred_at=at,
        received_at=at,
        metadata='{"k":[1,{"n":null}]}',
    )


async def add(storage: Storage, events: list[Event]) -> set[UUID]:
    """The ids stored by this call (its events belong to one client here)."""
    async with storage.uow() as uow:
        stored_before = (await uow.events.add_new(events)).stored_before
        await uow.commit()
    assert {client for client, _ in stored_before} <= {e.client_id for e in events}
    return {e.id for e in events} - {event_id for _, event_id in stored_before}


async def test_new_events_are_stored_and_listed_back_with_their_metadata(storage: Storage) -> None:
    client = uuid4()
    first = event(client)

    assert await add(storage, [first]) == {first.id}

    (view,) = await storage.events.list_events(EventCriteria(client_id=client))
    assert (view.id, view.user_id, view.action, view.occurred_at) == (
        first.id,
        "u1",
        "a",
        T0,
    )
    assert view.metadata == {"k": [1, {"n": None}]}


async def test_an_id_already_stored_for_the_client_is_skipped(storage: Storage) -> None:
    client = uuid4()
    first = event(client)
    await add(storage, [first])

    second = event(client)

    assert await add(storage, [first, second]) == {second.id}
    assert len(await storage.events.list_events(EventCriteria(client_id=client))) == 2


async def test_an_id_sent_again_with_another_time_is_a_duplicate(storage: Storage) -> None:
    """Whatever month (PostgreSQL: whatever partition) the second time falls in."""
    client = uuid4()
    first = event(client)
    later = [first._replace(occurred_at=T0 + timedelta(days=days)) for days in (0, 40, 400)]
    earlier = first._replace(occurred_at=datetime(1970, 1, 1, tzinfo=UTC))
    await add(storage, [first])

    for again in [*later, earlier]:
        assert await add(storage, [again]) == set()
    (view,) = await storage.events.list_events(EventCriteria(client_id=client))
    assert view.occurred_at == T0


async def test_duplicates_are_per_client(storage: Storage) -> None:
    mine = event(uuid4())
    same_id_other_client = Event(
        id=mine.id,
        client_id=uuid4(),
        user_id="u1",
        action="a",
        occurred_at=T0,
        received_at=T0,
        metadata="{}",
    )

    assert await add(storage, [mine]) == {mine.id}
    assert await add(storage, [same_id_other_client]) == {mine.id}


async def test_nothing_is_stored_without_commit(storage: Storage) -> None:
    client = uuid4()
    async with storage.uow() as uow:
        await uow.events.add_new([event(client)])

    assert await storage.events.list_events(EventCriteria(client_id=client)) == []


async def test_concurrent_transactions_store_one_id_once(storage: Storage) -> None:
    client = uuid4()
    shared = event(client)

    results = await asyncio.gather(*(add(storage, [shared]) for _ in range(5)))

    assert sorted(len(r) for r in results) == [0, 0, 0, 0, 1]
    assert len(await storage.events.list_events(EventCriteria(client_id=client))) == 1


async def test_listing_filters_on_user_action_and_a_half_open_range(storage: Storage) -> None:
    client = uuid4()
    hour = timedelta(hours=1)
    wanted = event(client, at=T0, user_id="u1", action="click")
    events = [
        wanted,
        event(client, at=T0 + hour, user_id="u1", action="click"),  # at till: excluded
        event(client, at=T0 - hour, user_id="u1", action="click"),  # before from
        event(client, at=T0, user_id="u2", action="click"),
        event(client, at=T0, user_id="u1", action="view"),
        event(uuid4(), at=T0, user_id="u1", action="click"),  # another tenant
    ]
    await add(storage, events[:5])
    await add(storage, events[5:])

    found = await storage.events.list_events(
        EventCriteria(
            client_id=client,
            user_id="u1",
            action="click",
            occurred_from=T0,
            occurred_till=T0 + hour,
        )
    )

    assert [v.id for v in found] == [wanted.id]


async def test_listing_orders_by_time_then_id_and_resumes_after_a_position(
    storage: Storage,
) -> None:
    client = uuid4()
    events = [event(client, at=T0 + timedelta(seconds=i // 2)) for i in range(6)]
    await add(storage, list(reversed(events)))
    ascending = sorted(events, key=lambda e: (e.occurred_at, e.id))

    oldest = await storage.events.list_events(
        EventCriteria(client_id=client, order=Order.OLDEST_FIRST, limit=3)
    )
    newest = await storage.events.list_events(EventCriteria(client_id=client, limit=3))
    after = (ascending[2].occurred_at, ascending[2].id)
    rest = await storage.events.list_events(
        EventCriteria(client_id=client, order=Order.OLDEST_FIRST, after=after)
    )
    before = await storage.events.list_events(EventCriteria(client_id=client, after=after))

    assert [v.id for v in oldest] == [e.id for e in ascending[:3]]
    assert [v.id for v in newest] == [e.id for e in reversed(ascending[3:])]
    assert [v.id for v in rest] == [e.id for e in ascending[3:]]
    assert [v.id for v in before] == [e.id for e in reversed(ascending[:2])]


async def test_the_first_and_last_instants_of_the_calendar_are_stored_exactly(
    storage: Storage,
) -> None:
    client = uuid4()
    first = event(client)._replace(occurred_at=datetime(1, 1, 1, tzinfo=UTC))
    last = event(client)._replace(received_at=datetime.max.replace(tzinfo=UTC))

    assert await add(storage, [first, last]) == {first.id, last.id}

    views = await storage.events.list_events(
        EventCriteria(client_id=client, order=Order.OLDEST_FIRST)
    )
    assert [(v.occurred_at, v.received_at) for v in views] == [
        (first.occurred_at, first.received_at),
        (last.occurred_at, last.received_at),
    ]
