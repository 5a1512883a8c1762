"""UpdateClient: an admin changes a client's limits, role or activity, seen on its next request."""

import asyncio
from uuid import uuid4

import pytest

from tests.unit.support import ChangesSpy, principal_of, register
from tracking.adapters.memory.read_models import InMemoryClientReadModel
from tracking.adapters.memory.store import InMemoryStore
from tracking.application.commands.update_client import UpdateClient, UpdateClientHandler
from tracking.application.errors import Conflict, Forbidden, NotFound
from tracking.application.ports import UnitOfWorkFactory
from tracking.application.principal import Principal
from tracking.domain.clients import Role, hash_api_key
from tracking.domain.errors import InvalidInput


@pytest.fixture
def handler(uow: UnitOfWorkFactory, changes: ChangesSpy) -> UpdateClientHandler:
    return UpdateClientHandler(uow, changes)


async def principal_for(store: InMemoryStore, api_key: str) -> Principal | None:
    """Who the key authenticates as now: what the client's next request would be."""
    return await InMemoryClientReadModel(store).principal_for_key(hash_api_key(api_key))


async def test_an_admin_changes_limits_and_the_next_request_carries_them(
    handler: UpdateClientHandler, store: InMemoryStore, changes: ChangesSpy
) -> None:
    acme = await register(store, "acme")
    command = UpdateClient(
        actor=Principal.operator(),
        client_id=acme.client.id,
        rate_limit_per_minute=600,
        events_per_minute=30_000,
    )

    view = await handler(command)

    assert (view.rate_limit_per_minute, view.events_per_minute) == (600, 30_000)
    assert (view.role, view.active) == (Role.CLIENT, True)
    principal = await principal_for(store, acme.api_key)
    assert principal is not None
    assert (principal.rate_limit_per_minute, principal.events_per_minute) == (600, 30_000)
    assert changes.announced == [{acme.client.id}]
    announced = changes.seen[acme.client.id]
    assert announced is not None
    assert announced.events_per_minute == 30_000, "announced before it was committed"


async def test_what_is_not_named_is_left_as_it_was(
    handler: UpdateClientHandler, store: InMemoryStore
) -> None:
    acme = (await register(store, "acme")).client

    await handler(UpdateClient(actor=Principal.operator(), client_id=acme.id, events_per_minute=7))

    stored = store.clients[acme.id]
    assert stored.events_per_minute == 7
    assert stored == acme.changed(events_per_minute=7)


async def test_a_client_may_not_change_anyone_not_even_itself(
    handler: UpdateClientHandler, store: InMemoryStore, changes: ChangesSpy
) -> None:
    acme = (await register(store, "acme")).client
    command = UpdateClient(actor=principal_of(acme), client_id=acme.id, role=Role.ADMIN)

    with pytest.raises(Forbidden) as refused:
        await handler(command)

    assert refused.value.code == "admin_required"
    assert store.clients[acme.id] == acme
    assert changes.announced == []


async def test_changing_an_unknown_client_is_not_found(handler: UpdateClientHandler) -> None:
    command = UpdateClient(actor=Principal.operator(), client_id=uuid4(), active=True)

    with pytest.raises(NotFound) as refused:
        await handler(command)

    assert refused.value.code == "client_not_found"


async def test_a_change_naming_nothing_is_refused(
    handler: UpdateClientHandler, store: InMemoryStore
) -> None:
    acme = (await register(store, "acme")).client

    with pytest.raises(InvalidInput) as refused:
        await handler(UpdateClient(actor=Principal.operator(), client_id=acme.id))

    assert refused.value.code == "nothing_to_change"


async def test_an_invalid_limit_changes_nothing(
    handler: UpdateClientHandler, store: InMemoryStore, changes: ChangesSpy
) -> None:
    acme = (await register(store, "acme")).client
    command = UpdateClient(
        actor=Principal.operator(),
        client_id=acme.id,
        rate_limit_per_minute=10,
        events_per_minute=0,
    )

    with pytest.raises(InvalidInput) as refused:
        await handler(command)

    assert (refused.value.code, [e.field for e in refused.value.errors]) == (
        "invalid_events_per_minute",
        ["events_per_minute"],
    )
    assert store.clients[acme.id] == acme
    assert changes.announced == []


@pytest.mark.parametrize(
    ("role", "active"), [(Role.CLIENT, None), (None, False), (Role.CLIENT, False)]
)
async def test_the_last_active_admin_cannot_be_demoted_nor_deactivated(
    handler: UpdateClientHandler, store: InMemoryStore, role: Role | None, active: bool | None
) -> None:
    admin = await register(store, "ops", Role.ADMIN)
    retired = (await register(store, "retired", Role.ADMIN)).client
    await handler(UpdateClient(actor=Principal.operator(), client_id=retired.id, active=False))

    with pytest.raises(Conflict) as refused:
        await handler(
            UpdateClient(
                actor=principal_of(admin.client),
                client_id=admin.client.id,
                role=role,
                active=active,
            )
        )

    assert refused.value.code == "last_admin"
    assert store.clients[admin.client.id] == admin.client
    assert (await principal_for(store, admin.api_key)) is not None


async def test_a_promoted_client_lets_the_old_admin_step_down(
    handler: UpdateClientHandler, store: InMemoryStore
) -> None:
    ops = (await register(store, "ops", Role.ADMIN)).client
    acme = (await register(store, "acme")).client

    await handler(UpdateClient(actor=principal_of(ops), client_id=acme.id, role=Role.ADMIN))
    await handler(UpdateClient(actor=principal_of(ops), client_id=ops.id, role=Role.CLIENT))

    assert store.clients[acme.id].is_active_admin
    assert store.clients[ops.id].role is Role.CLIENT


async def test_reactivating_a_client_makes_its_key_work_again(
    handler: UpdateClientHandler, store: InMemoryStore
) -> None:
    acme = await register(store, "acme")
    operator = Principal.operator()
    await handler(UpdateClient(actor=operator, client_id=acme.client.id, active=False))
    assert await principal_for(store, acme.api_key) is None

    view = await handler(UpdateClient(actor=operator, client_id=acme.client.id, active=True))

    assert view.active
    principal = await principal_for(store, acme.api_key)
    assert principal is not None
    assert principal.client_id == acme.client.id


async def test_a_change_to_what_the_client_already_is_writes_and_announces_nothing(
    handler: UpdateClientHandler, store: InMemoryStore, changes: ChangesSpy
) -> None:
    acme = (await register(store, "acme")).client
    same = UpdateClient(
        actor=Principal.operator(),
        client_id=acme.id,
        rate_limit_per_minute=acme.rate_limit_per_minute,
        active=True,
    )

    view = await handler(same)

    assert view.rate_limit_per_minute == acme.rate_limit_per_minute
    assert changes.announced == []


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    handler: UpdateClientHandler, store: InMemoryStore
) -> None:
    first = (await register(store, "ops", Role.ADMIN)).client
    second = (await register(store, "root", Role.ADMIN)).client

    outcomes = await asyncio.gather(
        handler(UpdateClient(actor=principal_of(first), client_id=second.id, role=Role.CLIENT)),
        handler(UpdateClient(actor=principal_of(second), client_id=first.id, role=Role.CLIENT)),
        return_exceptions=True,
    )

    assert sum(isinstance(outcome, Conflict) for outcome in outcomes) == 1
    assert sum(client.is_active_admin for client in store.clients.values()) == 1
