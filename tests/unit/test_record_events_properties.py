"""RecordEvents over any batch: one result per item, in order, and exactly the stored ones kept."""

from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fakes import FixedClock
from tests.unit.support import recorder
from tracking.adapters.memory.store import InMemoryStore
from tracking.application.commands.record_events import NewEvent, RecordEvents

CLIENT = uuid4()
KNOWN_IDS = [uuid4() for _ in range(4)]

items = st.builds(
    NewEvent,
    id=st.none() | st.sampled_from(KNOWN_IDS),
    user_id=st.sampled_from(["u1", 7, "", True]),
    action=st.sampled_from(["click", "page.view", "bad action"]),
)


def is_valid(item: NewEvent) -> bool:
    return item.user_id not in ("", True) and item.action != "bad action"


def expected_statuses(batch: list[NewEvent], already_stored: set[UUID]) -> list[str]:
    seen = set(already_stored)
    statuses = []
    for item in batch:
        if not is_valid(item):
            statuses.append("rejected")
        elif item.id is not None and item.id in seen:
            statuses.append("duplicate")
        else:
            if item.id is not None:
                seen.add(item.id)
            statuses.append("stored")
    return statuses


@settings(deadline=None)
@given(st.lists(items, max_size=12))
async def test_every_item_gets_one_result_in_order_and_stored_ones_are_kept(
    batch: list[NewEvent],
) -> None:
    store = InMemoryStore()

    recorded = await recorder(store, FixedClock())(RecordEvents(client_id=CLIENT, events=batch))

    assert [r.index for r in recorded.results] == list(range(len(batch)))
    assert [r.status for r in recorded.results] == expected_statuses(batch, set())
    assert len(store.events_of(CLIENT)) == recorded.count("stored")


@settings(deadline=None)
@given(st.lists(items, max_size=12), st.lists(items, max_size=12))
async def test_a_later_batch_stores_only_ids_not_stored_before(
    first: list[NewEvent], second: list[NewEvent]
) -> None:
    store = InMemoryStore()
    handler = recorder(store, FixedClock())
    await handler(RecordEvents(client_id=CLIENT, events=first))
    before = set(store.events_of(CLIENT))

    recorded = await handler(RecordEvents(client_id=CLIENT, events=second))

    assert [r.status for r in recorded.results] == expected_statuses(second, before)
    assert len(store.events_of(CLIENT)) == len(before) + recorded.count("stored")
