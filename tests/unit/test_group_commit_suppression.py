"""Group commit and suppression: a suppressed user's events are left out of the insert, in
the same transaction, and answered as suppressed; their neighbours are stored."""

import asyncio
from dataclasses import replace
from uuid import uuid4

from tests.fakes import FixedClock
from tests.unit.test_group_commit import T0, event
from tracking.adapters.group_commit import GroupCommitEventWriter, UnitOfWorkEventStore
from tracking.adapters.memory.store import InMemoryStore
from tracking.adapters.memory.stream import InMemoryEventFeed
from tracking.adapters.memory.unit_of_work import InMemoryUnitOfWork
from tracking.domain.windows import WindowSize


async def suppressed_store(client: object, user: str) -> InMemoryStore:
    store = InMemoryStore()
    async with InMemoryUnitOfWork(store) as uow:
        await uow.suppressions.suppress((client, user), T0)  # type: ignore[arg-type]
        await uow.commit()
    return store


def writer(store: InMemoryStore) -> GroupCommitEventWriter:
    return GroupCommitEventWriter(
        lambda: InMemoryUnitOfWork(store),
        UnitOfWorkEventStore(lambda: InMemoryUnitOfWork(store)),
        clock=FixedClock(),
        window_size=WindowSize(4),
        feed=InMemoryEventFeed(),
    )


async def test_a_suppressed_users_events_are_answered_suppressed_and_not_stored() -> None:
    client = uuid4()
    store = await suppressed_store(client, "gone")
    gone, kept = event(client)._replace(user_id="gone"), event(client)

    answer = await writer(store).write([gone, kept])

    assert answer.suppressed == frozenset({(client, gone.id)})
    assert answer.duplicates == frozenset()
    assert set(store.events_of(client)) == {kept.id}


async def test_a_key_sent_twice_in_a_group_is_stored_for_the_write_of_a_user_not_suppressed() -> (
    None
):
    client = uuid4()
    store = await suppressed_store(client, "gone")
    first = event(client)._replace(user_id="gone")
    second = first._replace(user_id="stays")
    write = writer(store)

    one, two = await asyncio.gather(write.write([first]), write.write([second]))

    assert one.suppressed == frozenset({(client, first.id)})
    assert (two.suppressed, two.duplicates) == (frozenset(), frozenset())
    assert store.events_of(client)[first.id].user_id == "stays"


async def test_a_lifted_suppression_lets_the_events_in_again() -> None:
    client = uuid4()
    store = await suppressed_store(client, "gone")
    async with InMemoryUnitOfWork(store) as uow:
        assert await uow.suppressions.lift((client, "gone"))
        await uow.commit()

    answer = await writer(store).write([event(client)._replace(user_id="gone")])

    assert answer.suppressed == frozenset()
    assert replace(answer, duplicates=frozenset()) == answer
