"""DeactivateClient: an admin switches a client off; its key stops working at once."""

import asyncio
from uuid import uuid4

import pytest

from tests.unit.support import ChangesSpy, authenticate_key, principal_of, register
from tracking.adapters.memory.store import InMemoryStore
from tracking.application.commands.deactivate_client import (
    DeactivateClient,
    DeactivateClientHandler,
)
from tracking.application.errors import Conflict, Forbidden, NotFound, Unauthenticated
from tracking.application.ports import UnitOfWorkFactory
from tracking.application.principal import Principal
from tracking.domain.clients import Role


@pytest.fixture
def handler(uow: UnitOfWorkFactory, changes: ChangesSpy) -> DeactivateClientHandler:
    return DeactivateClientHandler(uow, changes)


async def test_a_deactivated_clients_key_no_longer_authenticates(
    handler: DeactivateClientHandler, store: InMemoryStore
) -> None:
    admin = (await register(store, "ops", Role.ADMIN)).client
    acme = await register(store, "acme")

    await handler(DeactivateClient(actor=principal_of(admin), client_id=acme.client.id))

    assert not store.clients[acme.client.id].active
    with pytest.raises(Unauthenticated) as refused:
        await authenticate_key(store, acme.api_key)
    assert refused.value.code == "invalid_api_key"


async def test_deactivating_twice_is_harmless(
    handler: DeactivateClientHandler, store: InMemoryStore
) -> None:
    acme = (await register(store, "acme")).client
    command = DeactivateClient(actor=Principal.operator(), client_id=acme.id)

    await handler(command)
    await handler(command)

    assert not store.clients[acme.id].active


async def test_a_client_may_not_deactivate_anyone_not_even_itself(
    handler: DeactivateClientHandler, store: InMemoryStore
) -> None:
    acme = await register(store, "acme")

    with pytest.raises(Forbidden) as refused:
        await handler(DeactivateClient(actor=principal_of(acme.client), client_id=acme.client.id))

    assert refused.value.code == "admin_required"
    assert (await authenticate_key(store, acme.api_key)).client_id == acme.client.id


async def test_deactivating_an_unknown_client_is_not_found(
    handler: DeactivateClientHandler,
) -> None:
    with pytest.raises(NotFound) as refused:
        await handler(DeactivateClient(actor=Principal.operator(), client_id=uuid4()))

    assert refused.value.code == "client_not_found"


async def test_the_last_active_admin_cannot_be_deactivated(
    handler: DeactivateClientHandler, store: InMemoryStore
) -> None:
    admin = await register(store, "ops", Role.ADMIN)

    with pytest.raises(Conflict) as refused:
        await handler(DeactivateClient(actor=principal_of(admin.client), client_id=admin.client.id))

    assert refused.value.code == "last_admin"
    assert (await authenticate_key(store, admin.api_key)).client_id == admin.client.id


async def test_an_admin_may_be_deactivated_while_another_admin_remains(
    handler: DeactivateClientHandler, store: InMemoryStore
) -> None:
    first = (await register(store, "ops", Role.ADMIN)).client
    second = (await register(store, "root", Role.ADMIN)).client

    await handler(DeactivateClient(actor=principal_of(first), client_id=second.id))

    assert not store.clients[second.id].active
    with pytest.raises(Conflict):
        await handler(DeactivateClient(actor=principal_of(first), client_id=first.id))


async def test_two_admins_deactivating_each_other_at_once_leave_one_active(
    handler: DeactivateClientHandler, store: InMemoryStore
) -> None:
    first = (await register(store, "ops", Role.ADMIN)).client
    second = (await register(store, "root", Role.ADMIN)).client

    outcomes = await asyncio.gather(
        handler(DeactivateClient(actor=principal_of(first), client_id=second.id)),
        handler(DeactivateClient(actor=principal_of(second), client_id=first.id)),
        return_exceptions=True,
    )

    assert sum(isinstance(outcome, Conflict) for outcome in outcomes) == 1
    assert sum(client.active for client in store.clients.values()) == 1


async def test_a_deactivation_is_announced_once_it_is_committed_and_only_then(
    handler: DeactivateClientHandler, store: InMemoryStore, changes: ChangesSpy
) -> None:
    acme = (await register(store, "acme")).client
    admin = (await register(store, "ops", Role.ADMIN)).client
    command = DeactivateClient(actor=Principal.operator(), client_id=acme.id)

    await handler(command)
    await handler(command)
    with pytest.raises(Conflict):
        await handler(DeactivateClient(actor=Principal.operator(), client_id=admin.id))

    assert changes.announced == [{acme.id}]
    announced = changes.seen[acme.id]
    assert announced is not None
    assert not announced.active
