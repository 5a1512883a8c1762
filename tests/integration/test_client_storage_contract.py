"""The client ports' contract: every storage adapter must pass the same tests."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from tests.integration.storage import Storage
from tracking.application.principal import CredentialKind
from tracking.domain.clients import ApiKey, Client, Role

T0 = datetime(2025, 10, 23, 12, 0, tzinfo=UTC)


def client(name: str, role: Role = Role.CLIENT, at: datetime = T0) -> tuple[Client, ApiKey]:
    key = ApiKey.generate()
    registered = Client.register(
        id=uuid4(),
        name=name,
        role=role,
        rate_limit_per_minute=60,
        events_per_minute=6000,
        created_at=at,
        api_key=key,
    )
    return registered, key


async def save(storage: Storage, *clients: Client) -> None:
    async with storage.uow() as uow:
        for each in clients:
            await uow.clients.save(each)
        await uow.commit()


async def test_a_client_is_found_by_id_name_and_key(storage: Storage) -> None:
    shop, key = client(f"shop-{uuid4()}")
    async with storage.uow() as uow:
        await uow.clients.add(shop)
        await uow.commit()

    async with storage.uow() as uow:
        assert await uow.clients.get(shop.id) == shop
        assert await uow.clients.get_by_name(shop.name) == shop
        assert await uow.clients.get_by_key_hash(key.digest) == shop
        assert await uow.clients.get_by_key_hash(ApiKey.generate().digest) is None


async def test_a_rotated_key_replaces_the_old_one(storage: Storage) -> None:
    shop, old = client(f"shop-{uuid4()}")
    await save(storage, shop)
    new = ApiKey.generate()
    await save(storage, shop.with_key(new))

    assert await storage.clients.principal_for_key(old.digest) is None
    principal = await storage.clients.principal_for_key(new.digest)
    assert principal is not None
    assert (principal.client_id, principal.credential) == (shop.id, CredentialKind.API_KEY)


async def test_an_inactive_client_has_no_principal(storage: Storage) -> None:
    shop, key = client(f"shop-{uuid4()}")
    await save(storage, shop.deactivated())

    assert await storage.clients.principal_for_key(key.digest) is None
    assert await storage.clients.principal_for_token(shop.id) is None
    view = await storage.clients.get(shop.id)
    assert view is not None
    assert not view.active


async def test_changes_without_commit_are_discarded(storage: Storage) -> None:
    shop, _ = client(f"shop-{uuid4()}")
    async with storage.uow() as uow:
        await uow.clients.add(shop)
        assert await uow.clients.get(shop.id) == shop

    async with storage.uow() as uow:
        assert await uow.clients.get(shop.id) is None
    assert await storage.clients.get(shop.id) is None


async def test_active_admins_are_counted(storage: Storage) -> None:
    async with storage.uow() as uow:
        before = await uow.clients.count_active_admins()
    admin, _ = client(f"admin-{uuid4()}", Role.ADMIN)
    retired, _ = client(f"admin-{uuid4()}", Role.ADMIN)
    await save(storage, admin, retired.deactivated(), client(f"shop-{uuid4()}")[0])

    async with storage.uow() as uow:
        assert await uow.clients.count_active_admins() == before + 1


async def test_clients_are_listed_oldest_first_without_keys(storage: Storage) -> None:
    later, _ = client(f"later-{uuid4()}", at=T0 + timedelta(days=1))
    earlier, key = client(f"earlier-{uuid4()}")
    await save(storage, later, earlier)

    views = [v for v in await storage.clients.list_all() if v.id in {later.id, earlier.id}]

    assert [v.id for v in views] == [earlier.id, later.id]
    assert views[0].api_key_prefix == key.display_prefix
    assert not hasattr(views[0], "api_key_hash")


async def test_of_several_clients_only_those_that_exist_and_are_active_are_active(
    storage: Storage,
) -> None:
    shop, _ = client(f"shop-{uuid4()}")
    shop = shop.retained_for(30)
    retired, _ = client(f"retired-{uuid4()}")
    await save(storage, shop, retired.deactivated())
    stranger = uuid4()

    active = await storage.clients.active_among([shop.id, retired.id, stranger, shop.id])

    assert set(active) == {shop.id}
    # With what a use case needs of each: its retention among them.
    assert (active[shop.id].client_id, active[shop.id].retention_days) == (shop.id, 30)
    assert await storage.clients.active_among([]) == {}


async def test_a_clients_limits_are_stored_and_read_back_by_every_reader(storage: Storage) -> None:
    shop, key = client(f"shop-{uuid4()}")
    await save(storage, shop)
    changed = shop.changed(rate_limit_per_minute=120, events_per_minute=9000)
    await save(storage, changed)

    async with storage.uow() as uow:
        stored = await uow.clients.get(shop.id)
    view = await storage.clients.get(shop.id)
    listed = [v for v in await storage.clients.list_all() if v.id == shop.id]
    by_key = await storage.clients.principal_for_key(key.digest)
    by_token = await storage.clients.principal_for_token(shop.id)

    assert stored == changed
    assert view is not None
    assert by_key is not None
    assert by_token is not None
    for seen in (view, *listed):
        assert (seen.rate_limit_per_minute, seen.events_per_minute) == (120, 9000), seen
    for principal in (by_key, by_token):
        assert (principal.rate_limit_per_minute, principal.events_per_minute) == (120, 9000)
