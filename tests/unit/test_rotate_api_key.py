"""RotateApiKey: the new key works at once and the old one stops working at once."""

from uuid import uuid4

import pytest

from tests.unit.support import ChangesSpy, authenticate_key, principal_of, register
from tracking.adapters.memory.store import InMemoryStore
from tracking.application.commands.rotate_api_key import RotateApiKey, RotateApiKeyHandler
from tracking.application.errors import NotFound, Unauthenticated
from tracking.application.ports import UnitOfWorkFactory
from tracking.application.principal import Principal
from tracking.domain.clients import Role, hash_api_key


@pytest.fixture
def handler(uow: UnitOfWorkFactory, changes: ChangesSpy) -> RotateApiKeyHandler:
    return RotateApiKeyHandler(uow, changes)


async def test_an_admin_rotates_a_key_so_only_the_new_one_authenticates(
    handler: RotateApiKeyHandler, store: InMemoryStore
) -> None:
    admin = (await register(store, "ops", Role.ADMIN)).client
    acme = await register(store, "acme")

    rotated = await handler(RotateApiKey(actor=principal_of(admin), client_id=acme.client.id))

    assert rotated.api_key != acme.api_key
    assert (await authenticate_key(store, rotated.api_key)).client_id == acme.client.id
    with pytest.raises(Unauthenticated) as refused:
        await authenticate_key(store, acme.api_key)
    assert refused.value.code == "invalid_api_key"


async def test_a_client_may_rotate_its_own_key(
    handler: RotateApiKeyHandler, store: InMemoryStore
) -> None:
    acme = await register(store, "acme")

    rotated = await handler(RotateApiKey(actor=principal_of(acme.client), client_id=acme.client.id))

    assert rotated.client.id == acme.client.id
    assert (await authenticate_key(store, rotated.api_key)).client_id == acme.client.id
    with pytest.raises(Unauthenticated):
        await authenticate_key(store, acme.api_key)


async def test_a_client_rotating_another_clients_key_finds_nothing_and_changes_nothing(
    handler: RotateApiKeyHandler, store: InMemoryStore
) -> None:
    acme = await register(store, "acme")
    other = await register(store, "other")

    with pytest.raises(NotFound) as refused:
        await handler(RotateApiKey(actor=principal_of(acme.client), client_id=other.client.id))

    assert refused.value.code == "client_not_found"
    assert (await authenticate_key(store, other.api_key)).client_id == other.client.id


async def test_rotating_an_unknown_client_is_not_found(handler: RotateApiKeyHandler) -> None:
    with pytest.raises(NotFound) as refused:
        await handler(RotateApiKey(actor=Principal.operator(), client_id=uuid4()))

    assert refused.value.code == "client_not_found"


async def test_a_rotation_is_announced_once_it_is_committed(
    handler: RotateApiKeyHandler, store: InMemoryStore, changes: ChangesSpy
) -> None:
    acme = await register(store, "acme")

    rotated = await handler(RotateApiKey(actor=Principal.operator(), client_id=acme.client.id))

    assert changes.announced == [{acme.client.id}]
    announced = changes.seen[acme.client.id]
    assert announced is not None
    assert announced.api_key_hash == hash_api_key(rotated.api_key)
