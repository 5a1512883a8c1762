"""ListEvents: one tenant's events, filtered on user, action and a half-open time range."""

from datetime import datetime, timedelta
from uuid import UUID, uuid4

import pytest

from tests.fakes import T0, FixedClock
from tests.unit.support import principal, record
from tracking.adapters.memory.read_models import InMemoryEventReadModel
from tracking.adapters.memory.store import InMemoryStore
from tracking.application.commands.record_events import NewEvent
from tracking.application.errors import Forbidden
from tracking.application.principal import CredentialKind
from tracking.application.queries.list_events import ListEvents, ListEventsHandler
from tracking.application.views import Order
from tracking.domain.clients import Role
from tracking.domain.errors import InvalidInput

CLIENT = principal()
OTHER = principal()
ADMIN = principal(Role.ADMIN, CredentialKind.TOKEN)
E1, E2, E3, E4 = (uuid4() for _ in range(4))


def minutes_ago(minutes: int) -> datetime:
    return T0 - timedelta(minutes=minutes)


@pytest.fixture
async def handler(store: InMemoryStore, clock: FixedClock) -> ListEventsHandler:
    await record(
        store,
        clock,
        CLIENT.client_id,
        [
            NewEvent(id=E1, user_id="u1", action="click", occurred_at=minutes_ago(60)),
            NewEvent(id=E2, user_id="u2", action="view", occurred_at=minutes_ago(50)),
            NewEvent(id=E3, user_id="u1", action="view", occurred_at=minutes_ago(40)),
            NewEvent(id=E4, user_id="u1", action="click", occurred_at=minutes_ago(30)),
        ],
    )
    await record(store, clock, OTHER.client_id, [NewEvent(user_id="u1", action="click")])
    return ListEventsHandler(InMemoryEventReadModel(store))


async def ids_of(handler: ListEventsHandler, query: ListEvents) -> list[UUID]:
    page = await handler(query)
    assert page.next_cursor is None
    return [event.id for event in page.events]


async def test_a_client_sees_only_its_own_events_newest_first(handler: ListEventsHandler) -> None:
    assert await ids_of(handler, ListEvents(actor=CLIENT)) == [E4, E3, E2, E1]


async def test_oldest_first_lists_in_the_other_direction(handler: ListEventsHandler) -> None:
    assert await ids_of(handler, ListEvents(actor=CLIENT, order=Order.OLDEST_FIRST)) == [
        E1,
        E2,
        E3,
        E4,
    ]


async def test_events_are_shown_as_they_were_recorded(
    store: InMemoryStore, clock: FixedClock
) -> None:
    event_id = uuid4()
    occurred = minutes_ago(5)
    await record(
        store,
        clock,
        CLIENT.client_id,
        [NewEvent(id=event_id, user_id=7, action="a", occurred_at=occurred, metadata={"k": [1]})],
    )

    [event] = (
        await ListEventsHandler(InMemoryEventReadModel(store))(ListEvents(actor=CLIENT))
    ).events

    assert (event.id, event.user_id, event.action) == (event_id, "7", "a")
    assert (event.occurred_at, event.received_at, event.metadata) == (occurred, T0, {"k": [1]})


async def test_filter_on_user_id(handler: ListEventsHandler) -> None:
    assert await ids_of(handler, ListEvents(actor=CLIENT, user_id="u1")) == [E4, E3, E1]


async def test_filter_on_action(handler: ListEventsHandler) -> None:
    assert await ids_of(handler, ListEvents(actor=CLIENT, action="click")) == [E4, E1]


async def test_from_is_inclusive(handler: ListEventsHandler) -> None:
    query = ListEvents(actor=CLIENT, occurred_from=minutes_ago(50))

    assert await ids_of(handler, query) == [E4, E3, E2]


async def test_till_is_exclusive(handler: ListEventsHandler) -> None:
    query = ListEvents(actor=CLIENT, occurred_till=minutes_ago(40))

    assert await ids_of(handler, query) == [E2, E1]


async def test_filters_combine(handler: ListEventsHandler) -> None:
    query = ListEvents(
        actor=CLIENT,
        user_id="u1",
        occurred_from=minutes_ago(60),
        occurred_till=minutes_ago(30),
    )

    assert await ids_of(handler, query) == [E3, E1]


async def test_a_client_may_name_itself(handler: ListEventsHandler) -> None:
    query = ListEvents(actor=CLIENT, client_id=CLIENT.client_id)

    assert await ids_of(handler, query) == [E4, E3, E2, E1]


async def test_a_client_asking_for_another_clients_events_is_forbidden(
    handler: ListEventsHandler,
) -> None:
    with pytest.raises(Forbidden) as refused:
        await handler(ListEvents(actor=OTHER, client_id=CLIENT.client_id))

    assert refused.value.code == "forbidden_client"


async def test_an_admin_may_list_any_clients_events(handler: ListEventsHandler) -> None:
    query = ListEvents(actor=ADMIN, client_id=CLIENT.client_id)

    assert await ids_of(handler, query) == [E4, E3, E2, E1]
    assert await ids_of(handler, ListEvents(actor=ADMIN)) == []


@pytest.mark.parametrize("limit", [0, -1, 1001])
async def test_a_limit_outside_1_to_1000_is_refused(handler: ListEventsHandler, limit: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        await handler(ListEvents(actor=CLIENT, limit=limit))

    assert refused.value.code == "invalid_query"
    assert [error.field for error in refused.value.errors] == ["limit"]


async def test_a_limit_of_1000_is_accepted(handler: ListEventsHandler) -> None:
    assert await ids_of(handler, ListEvents(actor=CLIENT, limit=1000)) == [E4, E3, E2, E1]


@pytest.mark.parametrize("till", [minutes_ago(50), minutes_ago(55)])
async def test_a_range_that_ends_before_it_starts_is_refused(
    handler: ListEventsHandler, till: datetime
) -> None:
    query = ListEvents(actor=CLIENT, occurred_from=minutes_ago(50), occurred_till=till)

    with pytest.raises(InvalidInput) as refused:
        await handler(query)

    assert refused.value.code == "invalid_query"
    assert [error.field for error in refused.value.errors] == ["till"]


async def test_a_bound_without_an_offset_is_refused(handler: ListEventsHandler) -> None:
    naive = datetime(2025, 10, 23, 11, 0)  # noqa: DTZ001 - the point of the test

    with pytest.raises(InvalidInput) as refused:
        await handler(ListEvents(actor=CLIENT, occurred_from=naive))

    assert refused.value.code == "invalid_query"
    assert [error.field for error in refused.value.errors] == ["from"]
