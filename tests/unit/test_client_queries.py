"""GetClient and ListClients: a client reads itself; an admin reads everyone; keys never show."""

from datetime import timedelta
from uuid import uuid4

import pytest

from tests.fakes import FixedClock
from tests.unit.support import principal_of, register
from tracking.adapters.memory.read_models import InMemoryClientReadModel
from tracking.adapters.memory.store import InMemoryStore
from tracking.application.errors import Forbidden, NotFound
from tracking.application.principal import Principal
from tracking.application.queries.get_client import GetClient, GetClientHandler
from tracking.application.queries.list_clients import ListClients, ListClientsHandler
from tracking.domain.clients import Role


async def test_a_client_reads_its_own_record_with_only_its_key_prefix(
    store: InMemoryStore,
) -> None:
    acme = await register(store, "acme")

    view = await GetClientHandler(InMemoryClientReadModel(store))(
        GetClient(actor=principal_of(acme.client), client_id=acme.client.id)
    )

    assert (view.id, view.name, view.role, view.active) == (
        acme.client.id,
        "acme",
        Role.CLIENT,
        True,
    )
    assert acme.api_key.startswith(view.api_key_prefix)
    assert view.api_key_prefix != acme.api_key


async def test_another_clients_record_is_not_found_like_an_unknown_one(
    store: InMemoryStore,
) -> None:
    acme = (await register(store, "acme")).client
    other = (await register(store, "other")).client
    handler = GetClientHandler(InMemoryClientReadModel(store))

    with pytest.raises(NotFound) as someone_else:
        await handler(GetClient(actor=principal_of(acme), client_id=other.id))
    with pytest.raises(NotFound) as unknown:
        await handler(GetClient(actor=Principal.operator(), client_id=uuid4()))

    assert someone_else.value.code == unknown.value.code == "client_not_found"


async def test_an_admin_lists_every_client_oldest_first(
    store: InMemoryStore, clock: FixedClock
) -> None:
    admin = (await register(store, "ops", Role.ADMIN, clock)).client
    clock.advance(timedelta(seconds=1))
    await register(store, "zeta", clock=clock)
    clock.advance(timedelta(seconds=1))
    await register(store, "alpha", clock=clock)

    views = await ListClientsHandler(InMemoryClientReadModel(store))(
        ListClients(actor=principal_of(admin))
    )

    assert [view.name for view in views] == ["ops", "zeta", "alpha"]


async def test_a_client_may_not_list_clients(store: InMemoryStore) -> None:
    acme = (await register(store, "acme")).client

    with pytest.raises(Forbidden) as refused:
        await ListClientsHandler(InMemoryClientReadModel(store))(
            ListClients(actor=principal_of(acme))
        )

    assert refused.value.code == "admin_required"
