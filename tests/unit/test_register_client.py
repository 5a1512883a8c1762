"""RegisterClient: only an admin adds tenants; names are unique; the key is shown once."""

import asyncio

import pytest

from tests.fakes import T0, FixedClock
from tests.unit.support import authenticate_key, principal_of, register
from tracking.adapters.memory.store import InMemoryStore
from tracking.adapters.system import UuidV7Generator
from tracking.application.commands.register_client import (
    ClientDefaults,
    RegisterClient,
    RegisterClientHandler,
)
from tracking.application.errors import Conflict, Forbidden
from tracking.application.ports import UnitOfWorkFactory
from tracking.application.principal import CredentialKind, Principal
from tracking.domain.clients import DEFAULT_EVENTS_PER_MINUTE, DEFAULT_RATE_LIMIT_PER_MINUTE, Role
from tracking.domain.errors import InvalidInput


@pytest.fixture
def handler(
    uow: UnitOfWorkFactory, clock: FixedClock, ids: UuidV7Generator
) -> RegisterClientHandler:
    return RegisterClientHandler(uow, clock, ids, ClientDefaults())


async def test_an_admin_registers_a_client_whose_key_authenticates_it(
    handler: RegisterClientHandler, store: InMemoryStore
) -> None:
    admin = (await register(store, "ops", Role.ADMIN)).client

    registered = await handler(
        RegisterClient(actor=principal_of(admin), name="  acme  ", rate_limit_per_minute=60)
    )

    client = registered.client
    assert (client.name, client.role, client.rate_limit_per_minute) == ("acme", Role.CLIENT, 60)
    assert client.active
    assert client.created_at == T0
    assert registered.api_key.startswith("trk_")
    assert await authenticate_key(store, registered.api_key) == Principal(
        client_id=client.id,
        role=Role.CLIENT,
        credential=CredentialKind.API_KEY,
        rate_limit_per_minute=60,
        events_per_minute=60_000,
    )


async def test_limits_not_given_are_the_handlers_defaults(
    uow: UnitOfWorkFactory, clock: FixedClock, ids: UuidV7Generator
) -> None:
    defaults = ClientDefaults(rate_limit_per_minute=50, events_per_minute=500)
    handler = RegisterClientHandler(uow, clock, ids, defaults)
    operator = Principal.operator()

    plain = (await handler(RegisterClient(actor=operator, name="plain"))).client
    named = await handler(
        RegisterClient(actor=operator, name="named", events_per_minute=9, rate_limit_per_minute=8)
    )

    assert (plain.rate_limit_per_minute, plain.events_per_minute) == (50, 500)
    assert (named.client.rate_limit_per_minute, named.client.events_per_minute) == (8, 9)


def test_the_default_defaults_are_the_domains() -> None:
    assert ClientDefaults() == ClientDefaults(
        rate_limit_per_minute=DEFAULT_RATE_LIMIT_PER_MINUTE,
        events_per_minute=DEFAULT_EVENTS_PER_MINUTE,
    )


@pytest.mark.parametrize(
    ("rate_limit", "events", "code"),
    [(0, 10, "invalid_rate_limit"), (10, 10_000_001, "invalid_events_per_minute")],
)
def test_defaults_outside_the_domains_bounds_are_refused_at_once(
    rate_limit: int, events: int, code: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        ClientDefaults(rate_limit_per_minute=rate_limit, events_per_minute=events)

    assert refused.value.code == code


async def test_a_client_may_not_register_clients(
    handler: RegisterClientHandler, store: InMemoryStore
) -> None:
    client = (await register(store, "acme")).client

    with pytest.raises(Forbidden) as refused:
        await handler(RegisterClient(actor=principal_of(client), name="sneaky"))

    assert refused.value.code == "admin_required"
    assert [c.name for c in store.clients.values()] == ["acme"]


async def test_a_taken_name_is_a_conflict_even_with_spaces_around_it(
    handler: RegisterClientHandler, store: InMemoryStore
) -> None:
    await register(store, "acme")

    with pytest.raises(Conflict) as refused:
        await handler(RegisterClient(actor=Principal.operator(), name=" acme "))

    assert refused.value.code == "client_name_taken"
    assert len(store.clients) == 1


@pytest.mark.parametrize(
    ("name", "rate_limit", "expected"),
    [
        ("   ", 100, ("invalid_name", "name")),
        ("x" * 101, 100, ("invalid_name", "name")),
        ("acme", 0, ("invalid_rate_limit", "rate_limit_per_minute")),
    ],
)
async def test_an_invalid_client_is_refused_and_not_stored(
    handler: RegisterClientHandler,
    store: InMemoryStore,
    name: str,
    rate_limit: int,
    expected: tuple[str, str],
) -> None:
    command = RegisterClient(
        actor=Principal.operator(), name=name, rate_limit_per_minute=rate_limit
    )

    with pytest.raises(InvalidInput) as refused:
        await handler(command)

    code, field = expected
    assert refused.value.code == code
    assert [error.field for error in refused.value.errors] == [field]
    assert store.clients == {}


async def test_an_invalid_events_quota_is_refused_and_not_stored(
    handler: RegisterClientHandler, store: InMemoryStore
) -> None:
    command = RegisterClient(actor=Principal.operator(), name="acme", events_per_minute=0)

    with pytest.raises(InvalidInput) as refused:
        await handler(command)

    assert [error.field for error in refused.value.errors] == ["events_per_minute"]
    assert store.clients == {}


async def test_concurrent_registrations_of_one_name_register_it_once(
    handler: RegisterClientHandler, store: InMemoryStore
) -> None:
    command = RegisterClient(actor=Principal.operator(), name="acme")

    outcomes = await asyncio.gather(*(handler(command) for _ in range(4)), return_exceptions=True)

    assert sum(isinstance(outcome, Conflict) for outcome in outcomes) == 3
    assert [c.name for c in store.clients.values()] == ["acme"]
