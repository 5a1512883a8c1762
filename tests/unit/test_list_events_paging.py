"""ListEvents pages: keyset cursors walk every event once, in either order."""

import base64
from datetime import timedelta
from uuid import UUID, uuid4

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fakes import T0, FixedClock
from tests.unit.support import principal, record
from tracking.adapters.memory.read_models import InMemoryEventReadModel
from tracking.adapters.memory.store import InMemoryStore
from tracking.application.commands.record_events import NewEvent
from tracking.application.queries.list_events import ListEvents, ListEventsHandler
from tracking.application.views import Order
from tracking.domain.errors import InvalidInput

CLIENT = principal()


async def seeded(store: InMemoryStore, events: list[tuple[UUID, int]]) -> ListEventsHandler:
    """Events `(id, minutes before T0)`; several may share one instant."""
    items = [
        NewEvent(id=id_, user_id="u", action="a", occurred_at=T0 - timedelta(minutes=minutes))
        for id_, minutes in events
    ]
    await record(store, FixedClock(), CLIENT.client_id, items)
    return ListEventsHandler(InMemoryEventReadModel(store))


async def walk(handler: ListEventsHandler, order: Order, limit: int) -> list[list[UUID]]:
    pages: list[list[UUID]] = []
    cursor: str | None = None
    while True:
        page = await handler(ListEvents(actor=CLIENT, order=order, limit=limit, cursor=cursor))
        pages.append([event.id for event in page.events])
        cursor = page.next_cursor
        if cursor is None or len(pages) > 100:
            return pages


@settings(deadline=None)
@given(
    events=st.lists(
        st.tuples(st.uuids(), st.integers(min_value=0, max_value=3)),
        min_size=1,
        max_size=15,
        unique_by=lambda event: event[0],
    ),
    order=st.sampled_from(Order),
    data=st.data(),
)
async def test_pages_of_any_size_walk_every_event_exactly_once_in_order(
    events: list[tuple[UUID, int]], order: Order, data: st.DataObject
) -> None:
    limit = data.draw(st.integers(min_value=1, max_value=len(events) + 1), label="limit")
    handler = await seeded(InMemoryStore(), events)
    oldest_first = [id_ for id_, _ in sorted(events, key=lambda e: (-e[1], e[0]))]
    expected = oldest_first if order is Order.OLDEST_FIRST else oldest_first[::-1]

    pages = await walk(handler, order, limit)

    assert [id_ for page in pages for id_ in page] == expected
    assert [len(page) for page in pages[:-1]] == [limit] * (len(pages) - 1)
    assert 1 <= len(pages[-1]) <= limit
    assert len(pages) == -(-len(events) // limit)


async def test_the_last_page_has_no_cursor_even_when_it_is_full(store: InMemoryStore) -> None:
    handler = await seeded(store, [(uuid4(), minutes) for minutes in range(4)])

    first = await handler(ListEvents(actor=CLIENT, limit=2))
    last = await handler(ListEvents(actor=CLIENT, limit=2, cursor=first.next_cursor))

    assert first.next_cursor is not None
    assert len(last.events) == 2
    assert last.next_cursor is None


async def test_no_events_is_one_empty_page(store: InMemoryStore) -> None:
    page = await ListEventsHandler(InMemoryEventReadModel(store))(ListEvents(actor=CLIENT))

    assert (page.events, page.next_cursor) == ([], None)


async def test_a_cursor_made_for_one_order_is_refused_for_the_other(store: InMemoryStore) -> None:
    handler = await seeded(store, [(uuid4(), minutes) for minutes in range(3)])
    page = await handler(ListEvents(actor=CLIENT, limit=1, order=Order.NEWEST_FIRST))

    with pytest.raises(InvalidInput) as refused:
        await handler(
            ListEvents(actor=CLIENT, limit=1, order=Order.OLDEST_FIRST, cursor=page.next_cursor)
        )

    assert refused.value.code == "invalid_cursor"
    assert [error.field for error in refused.value.errors] == ["cursor"]


def encoded(value: object) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(value)).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "garbage!",
        "é",
        base64.urlsafe_b64encode(b"not json").decode(),
        encoded(["desc", "2025-10-23T12:00:00Z"]),
        encoded(["desc", "yesterday", str(uuid4())]),
        encoded(["desc", "2025-10-23T12:00:00Z", "not-a-uuid"]),
        encoded({"order": "desc"}),
    ],
)
async def test_a_cursor_this_service_did_not_issue_is_refused(
    store: InMemoryStore, cursor: str
) -> None:
    handler = await seeded(store, [(uuid4(), 1)])

    with pytest.raises(InvalidInput) as refused:
        await handler(ListEvents(actor=CLIENT, cursor=cursor))

    assert refused.value.code == "invalid_cursor"


async def test_a_forged_cursor_with_a_time_without_offset_is_refused(
    store: InMemoryStore,
) -> None:
    handler = await seeded(store, [(uuid4(), 1)])
    cursor = encoded(["desc", "2025-10-23T12:00:00", str(uuid4())])

    with pytest.raises(InvalidInput) as refused:
        await handler(ListEvents(actor=CLIENT, cursor=cursor))

    assert refused.value.code == "invalid_cursor"
