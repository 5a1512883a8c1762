"""PostgreSQL under contention: no deadlock between batches, a timeout is a 503 to retry, and
two admins deactivating each other leave one active."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import pytest

from tracking.adapters.system import UuidV7Generator
from tracking.application.commands.deactivate_client import DeactivateClient
from tracking.application.commands.register_client import RegisterClient
from tracking.application.errors import Conflict, Unavailable
from tracking.application.principal import CredentialKind, Principal
from tracking.application.queries.list_events import ListEvents
from tracking.bootstrap import Container, resolved, shut_down
from tracking.domain.clients import (
    DEFAULT_EVENTS_PER_MINUTE,
    DEFAULT_RATE_LIMIT_PER_MINUTE,
    ApiKey,
    Role,
)
from tracking.domain.events import Event
from tracking.settings import Settings

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def postgres(database_url: str) -> AsyncIterator[Container]:
    container = Container(
        settings=Settings(
            storage="postgres", database_url=database_url, db_statement_timeout_ms=300
        )
    )
    yield container
    await shut_down(container)


def events(count: int) -> list[Event]:
    client_id, ids = uuid4(), UuidV7Generator()
    return [
        Event(
            id=ids.new_id(),
            client_id=client_id,
            user_id="u",
            action="a",
            occurred_at=T0,
            received_at=T0,
            metadata="{}",
        )
        for _ in range(count)
    ]


@pytest.fixture
async def untimed(database_url: str) -> AsyncIterator[Container]:
    """No statement timeout: two batches waiting on each other's rows take as long as a
    loaded machine makes them, and a real deadlock is still reported by PostgreSQL's own
    detector (as 40P01, an error this test would see)."""
    container = Container(
        settings=Settings(storage="postgres", database_url=database_url, db_statement_timeout_ms=0)
    )
    yield container
    await shut_down(container)


async def test_batches_of_the_same_keys_in_opposite_orders_do_not_deadlock(
    untimed: Container,
) -> None:
    writer = await resolved(untimed.store_writer())
    batch = events(1000)

    for _ in range(3):
        stored = await asyncio.gather(writer.write(batch), writer.write(batch[::-1]))
        # Each event is stored by one of the two writes, or by an earlier round.
        assert sorted(len(s.duplicates) for s in stored) in ([0, 1000], [1000, 1000])


async def test_a_statement_cut_off_by_its_timeout_is_unavailable_not_a_crash(
    postgres: Container, database_url: str
) -> None:
    blocker = await asyncpg.connect(database_url)
    try:
        await blocker.execute("BEGIN; LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        actor = Principal(
            client_id=uuid4(),
            role=Role.CLIENT,
            credential=CredentialKind.API_KEY,
            rate_limit_per_minute=DEFAULT_RATE_LIMIT_PER_MINUTE,
            events_per_minute=DEFAULT_EVENTS_PER_MINUTE,
        )
        handlers = await resolved(postgres.handlers())
        with pytest.raises(Unavailable):
            await handlers.list_events(ListEvents(actor=actor))
        with pytest.raises(Unavailable):
            await (await resolved(postgres.store_writer())).write(events(600))
    finally:
        await blocker.close()


async def test_two_admins_deactivating_each_other_leave_one_active(postgres: Container) -> None:
    operator = Principal.operator()
    handlers = await resolved(postgres.handlers())
    register = handlers.register_client
    admins = [
        await register(RegisterClient(actor=operator, name=f"admin-{uuid4()}", role=Role.ADMIN))
        for _ in range(2)
    ]
    deactivate = handlers.deactivate_client

    results = await asyncio.gather(
        *(deactivate(DeactivateClient(actor=operator, client_id=a.client.id)) for a in admins),
        return_exceptions=True,
    )

    new_uow = await resolved(postgres.uow())
    async with new_uow() as uow:
        left = await uow.clients.count_active_admins()
    assert left == 1
    assert [type(r) for r in results].count(Conflict) == 1


async def test_a_rotation_and_a_change_of_limits_at_once_both_survive(
    postgres: Container,
) -> None:
    """Each transaction writes what it changed, so neither puts back what the other replaced
    (above all, the rotated key)."""
    handlers = await resolved(postgres.handlers())
    operator = Principal.operator()
    shop = (await handlers.register_client(RegisterClient(actor=operator, name="shop"))).client
    uow_factory = await resolved(postgres.uow())
    rotating, limiting = uow_factory(), uow_factory()
    async with rotating, limiting:
        read_by_rotation = await rotating.clients.get(shop.id)
        read_by_change = await limiting.clients.get(shop.id)
        assert read_by_rotation is not None
        assert read_by_change is not None
        rotated = read_by_rotation.with_key(ApiKey.generate())
        await rotating.clients.save(rotated)
        await rotating.commit()
        await limiting.clients.save(read_by_change.changed(rate_limit_per_minute=7))
        await limiting.commit()

    async with uow_factory() as uow:
        final = await uow.clients.get(shop.id)
    assert final is not None
    assert final.api_key_hash == rotated.api_key_hash
    assert final.rate_limit_per_minute == 7
