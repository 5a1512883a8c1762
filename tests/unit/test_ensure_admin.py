"""EnsureAdmin: an operator can always reach the admin API, with the key they configured."""

import asyncio

import pytest

from tests.fakes import FixedClock
from tests.unit.support import (
    OTHER_STRONG_KEY,
    STRONG_KEY,
    ChangesSpy,
    authenticate_key,
    register,
    uow_factory,
)
from tracking.adapters.memory.store import InMemoryStore
from tracking.adapters.system import UuidV7Generator
from tracking.application.commands.deactivate_client import (
    DeactivateClient,
    DeactivateClientHandler,
)
from tracking.application.commands.ensure_admin import (
    AdminChange,
    AdminEnsured,
    EnsureAdmin,
    EnsureAdminHandler,
)
from tracking.application.commands.register_client import ClientDefaults
from tracking.application.errors import Conflict, Unauthenticated
from tracking.application.ports import UnitOfWorkFactory
from tracking.application.principal import Principal
from tracking.domain.clients import Role
from tracking.domain.errors import InvalidInput


@pytest.fixture
def handler(
    uow: UnitOfWorkFactory, clock: FixedClock, ids: UuidV7Generator, changes: ChangesSpy
) -> EnsureAdminHandler:
    return EnsureAdminHandler(uow, clock, ids, changes, ClientDefaults())


async def test_without_a_key_or_an_admin_one_is_created_with_a_new_key(
    handler: EnsureAdminHandler, store: InMemoryStore
) -> None:
    ensured = await handler(EnsureAdmin())

    assert ensured.change is AdminChange.CREATED
    assert ensured.new_api_key is not None
    principal = await authenticate_key(store, ensured.new_api_key)
    assert principal.role is Role.ADMIN
    assert store.clients[principal.client_id].name == "admin"


async def test_without_a_key_a_second_run_changes_nothing(
    handler: EnsureAdminHandler, store: InMemoryStore
) -> None:
    first = await handler(EnsureAdmin())

    second = await handler(EnsureAdmin())

    assert second == AdminEnsured(change=AdminChange.UNCHANGED)
    assert first.new_api_key is not None
    assert (await authenticate_key(store, first.new_api_key)).role is Role.ADMIN
    assert len(store.clients) == 1


async def test_without_a_key_an_existing_admin_of_any_name_is_enough(
    handler: EnsureAdminHandler, store: InMemoryStore
) -> None:
    await register(store, "ops", Role.ADMIN)

    assert await handler(EnsureAdmin()) == AdminEnsured(change=AdminChange.UNCHANGED)
    assert [c.name for c in store.clients.values()] == ["ops"]


async def test_a_configured_key_is_installed_once_then_left_alone(
    handler: EnsureAdminHandler, store: InMemoryStore
) -> None:
    created = await handler(EnsureAdmin(api_key=STRONG_KEY))
    again = await handler(EnsureAdmin(api_key=STRONG_KEY))

    assert created == AdminEnsured(change=AdminChange.CREATED)
    assert again == AdminEnsured(change=AdminChange.UNCHANGED)
    assert (await authenticate_key(store, STRONG_KEY)).role is Role.ADMIN
    assert len(store.clients) == 1


async def test_a_different_configured_key_rekeys_the_admin_and_the_old_key_stops_working(
    handler: EnsureAdminHandler, store: InMemoryStore, changes: ChangesSpy
) -> None:
    await handler(EnsureAdmin(api_key=STRONG_KEY))
    admin_id = (await authenticate_key(store, STRONG_KEY)).client_id

    rekeyed = await handler(EnsureAdmin(api_key=OTHER_STRONG_KEY))

    assert rekeyed == AdminEnsured(change=AdminChange.REKEYED)
    assert changes.announced == [{admin_id}]  # every process forgets the old key, after commit
    assert (await authenticate_key(store, OTHER_STRONG_KEY)).client_id == admin_id
    with pytest.raises(Unauthenticated):
        await authenticate_key(store, STRONG_KEY)
    assert len(store.clients) == 1


async def test_a_configured_key_replaces_a_generated_one(
    handler: EnsureAdminHandler, store: InMemoryStore
) -> None:
    generated = (await handler(EnsureAdmin())).new_api_key
    assert generated is not None

    assert (await handler(EnsureAdmin(api_key=STRONG_KEY))).change is AdminChange.REKEYED
    with pytest.raises(Unauthenticated):
        await authenticate_key(store, generated)


async def test_a_non_admin_client_named_admin_is_a_conflict(
    handler: EnsureAdminHandler, store: InMemoryStore
) -> None:
    squatter = await register(store, "admin", Role.CLIENT)

    with pytest.raises(Conflict) as refused:
        await handler(EnsureAdmin(api_key=STRONG_KEY))

    assert refused.value.code == "admin_name_taken"
    assert (await authenticate_key(store, squatter.api_key)).role is Role.CLIENT
    with pytest.raises(Unauthenticated):
        await authenticate_key(store, STRONG_KEY)


async def test_a_weak_configured_key_is_refused(
    handler: EnsureAdminHandler, store: InMemoryStore
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await handler(EnsureAdmin(api_key="trk_short"))

    assert refused.value.code == "weak_api_key"
    assert store.clients == {}


async def test_a_configured_key_reactivates_a_deactivated_admin(
    handler: EnsureAdminHandler, store: InMemoryStore
) -> None:
    await handler(EnsureAdmin(api_key=STRONG_KEY))
    await register(store, "ops", Role.ADMIN)
    admin_id = (await authenticate_key(store, STRONG_KEY)).client_id
    deactivate = DeactivateClientHandler(uow_factory(store), ChangesSpy(store))
    await deactivate(DeactivateClient(actor=Principal.operator(), client_id=admin_id))

    ensured = await handler(EnsureAdmin(api_key=STRONG_KEY))

    assert ensured.change is AdminChange.REKEYED
    assert (await authenticate_key(store, STRONG_KEY)).client_id == admin_id


async def test_concurrent_first_starts_create_one_admin(
    handler: EnsureAdminHandler, store: InMemoryStore
) -> None:
    results = await asyncio.gather(*(handler(EnsureAdmin()) for _ in range(5)))

    assert sorted(r.change for r in results) == [AdminChange.CREATED] + [AdminChange.UNCHANGED] * 4
    assert len(store.clients) == 1
