"""The privacy ports' contract, on every storage: suppressions in the unit of work, and what
an erasure guarantees about a write in flight as its suppression commits."""

import asyncio
from datetime import UTC, datetime
from uuid import uuid4

from tests.integration.storage import Storage
from tracking.adapters.system import UuidV7Generator
from tracking.application.commands.erase_user import EraseUser
from tracking.application.commands.register_client import RegisterClient
from tracking.application.handlers import Handlers
from tracking.application.principal import Principal
from tracking.application.views import EventCriteria
from tracking.bootstrap import Container, resolved, shut_down
from tracking.domain.events import Event
from tracking.settings import Settings

T0 = datetime(2025, 10, 23, 12, 0, tzinfo=UTC)
ids = UuidV7Generator()


def event(client_id: object, user_id: str) -> Event:
    return Event(ids.new_id(), client_id, user_id, "a", T0, T0, "{}")  # type: ignore[arg-type]


async def test_a_suppression_is_seen_from_its_commit_on_and_lifted_once(storage: Storage) -> None:
    client = uuid4()
    user = (client, "u1")
    async with storage.uow() as uow:
        await uow.suppressions.suppress(user, T0)
        assert await uow.suppressions.suppressed_among([user]) == {user}
    async with storage.uow() as uow:
        assert await uow.suppressions.suppressed_among([user]) == set()  # rolled back
        await uow.suppressions.suppress(user, T0)
        await uow.suppressions.suppress(user, T0)
        await uow.commit()
    async with storage.uow() as uow:
        found = await uow.suppressions.suppressed_among([user, (client, "u2"), (uuid4(), "u1")])
        assert found == {user}
        assert await uow.suppressions.lift(user)
        assert not await uow.suppressions.lift(user)
        await uow.commit()
    async with storage.uow() as uow:
        assert await uow.suppressions.suppressed_among([user]) == set()


async def test_add_new_leaves_out_suppressed_users_events_and_says_whose(storage: Storage) -> None:
    client, other = uuid4(), uuid4()
    async with storage.uow() as uow:
        await uow.suppressions.suppress((client, "gone"), T0)
        await uow.commit()
    kept, again = event(client, "kept"), event(client, "kept")
    async with storage.uow() as uow:
        await uow.events.add_new([again])
        await uow.commit()
    batch = [event(client, "gone"), kept, event(other, "gone"), again, event(client, "gone")]

    async with storage.uow() as uow:
        added = await uow.events.add_new(batch)
        await uow.commit()

    assert added.refused == {(client, "gone")}  # the same user id of another client is not
    assert added.stored_before == {(client, again.id)}
    stored = {e.id for s in added.sequenced for e in s.events}
    assert stored == {kept.id, batch[2].id}
    listed = await storage.events.list_events(EventCriteria(client_id=client))
    assert {e.id for e in listed} == {kept.id, again.id}


async def test_a_suppressing_erasure_waits_for_a_write_that_looked_before_it_and_deletes_it(
    storage: Storage, handlers: Handlers
) -> None:
    operator = Principal.operator()
    registered = await handlers.register_client(RegisterClient(actor=operator, name="w"))
    client = registered.client.id
    erase = EraseUser(actor=operator, user_id="late", client_id=client, suppress=True)

    async with storage.uow() as uow:  # a write in flight: it looked, found no suppression
        added = await uow.events.add_new([event(client, "late")])
        assert added.refused == set()
        erasing = asyncio.create_task(handlers.erase_user(erase))
        await asyncio.sleep(0.5)
        assert not erasing.done()
        await uow.commit()
    receipt = await asyncio.wait_for(erasing, 30)

    assert receipt.events_deleted == 1
    assert await storage.events.list_events(EventCriteria(client_id=client)) == []
    async with storage.uow() as uow:
        assert await uow.suppressions.suppressed_among([(client, "late")]) == {(client, "late")}


async def test_every_process_over_one_database_makes_the_same_user_hashes(
    database_url: str,
) -> None:
    """The key is made by the first process that needs it, stored, and read by the others."""
    settings = Settings(storage="postgres", database_url=database_url)
    first, second = Container(settings=settings), Container(settings=settings)
    client = uuid4()
    try:
        one = await resolved(first.user_hashes())
        other = await resolved(second.user_hashes())
        assert one.hash(client, "u1") == other.hash(client, "u1")
        assert one.hash(client, "u1") != one.hash(client, "u2")
    finally:
        await shut_down(first)
        await shut_down(second)
    configured = Settings(storage="postgres", database_url=database_url, user_hash_key="c" * 32)
    third = Container(settings=configured)
    try:
        mine = await resolved(third.user_hashes())
        assert mine.hash(client, "u1") != one.hash(client, "u1")
    finally:
        await shut_down(third)
