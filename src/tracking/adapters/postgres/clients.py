"""Clients in PostgreSQL: the repository the commands change them through, and the read model
that answers who a credential belongs to (behind the principal cache)."""

import functools
from collections.abc import Collection
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from tracking.adapters.postgres.database import driver_connection
from tracking.adapters.postgres.principal_cache import PrincipalCache
from tracking.adapters.postgres.statements import Statement
from tracking.adapters.postgres.tables import clients
from tracking.application.errors import Conflict
from tracking.application.ports import ClientReadModel, ClientRepository
from tracking.application.principal import CredentialKind, Principal
from tracking.application.views import ClientView
from tracking.domain.clients import Client, Role

_COLUMNS = [c.name for c in clients.c]
_INSERT_CLIENT = Statement.of(insert(clients).values({n: bindparam(n) for n in _COLUMNS}))
_UPDATE_CLIENT = Statement.of(
    update(clients)
    .where(clients.c.id == bindparam("client_id"))
    .values({n: bindparam(n) for n in _COLUMNS if n != "id"})
)


@functools.cache
def _update_of(columns: frozenset[str]) -> Statement:
    """An UPDATE of these columns only."""
    values: dict[str, Any] = {n: bindparam(n) for n in _COLUMNS if n in columns}
    where = clients.c.id == bindparam("client_id")
    return Statement.of(update(clients).where(where).values(values))


_SELECT_CLIENT = {
    column: Statement.of(select(clients).where(clients.c[column] == bindparam("value")))
    for column in ("id", "name", "api_key_hash")
}
# Locks the active admins' rows: two deactivations of different admins at once then take
# turns, and the second counts what the first left.
_COUNT_ACTIVE_ADMINS = Statement.of(
    select(func.count()).select_from(
        select(clients.c.id)
        .where(clients.c.active, clients.c.role == bindparam("role"))
        .with_for_update()
        .subquery()
    )
)


class PostgresClientRepository(ClientRepository):
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection
        self._read: dict[UUID, dict[str, Any]] = {}
        """Each client as this transaction read it: a save writes only what it changed, so
        two changes at once of different things (a rotated key, a PATCH of its limits)
        both survive, and a rotation is never undone by a concurrent write of the old key."""

    async def add(self, client: Client) -> None:
        try:
            await self._connection.execute(_INSERT_CLIENT.sql, *_INSERT_CLIENT.args(**_row(client)))
        except asyncpg.UniqueViolationError as error:
            # Two registrations of one name raced past the handler's check.
            raise Conflict("client_name_taken", f"a client named {client.name!r} exists") from error

    async def save(self, client: Client) -> None:
        row, read = _row(client), self._read.get(client.id)
        if read is None:
            statement = _UPDATE_CLIENT
        else:
            changed = frozenset(name for name, value in row.items() if read.get(name) != value)
            if not changed:
                return
            statement = _update_of(changed)
        values = statement.args(client_id=client.id, **row)
        if await self._connection.execute(statement.sql, *values) == "UPDATE 0":
            await self.add(client)
        self._read[client.id] = row

    async def get(self, client_id: UUID) -> Client | None:
        return await self._one("id", client_id)

    async def get_by_name(self, name: str) -> Client | None:
        return await self._one("name", name)

    async def get_by_key_hash(self, api_key_hash: str) -> Client | None:
        return await self._one("api_key_hash", api_key_hash)

    async def count_active_admins(self) -> int:
        args = _COUNT_ACTIVE_ADMINS.args(role=Role.ADMIN.value)
        return int(await self._connection.fetchval(_COUNT_ACTIVE_ADMINS.sql, *args))

    async def _one(self, column: str, value: object) -> Client | None:
        statement = _SELECT_CLIENT[column]
        row = await self._connection.fetchrow(statement.sql, *statement.args(value=value))
        if row is None:
            return None
        client = _client(row)
        self._read[client.id] = _row(client)
        return client


def _row(client: Client) -> dict[str, Any]:
    return {
        "id": client.id,
        "name": client.name,
        "role": client.role.value,
        "rate_limit_per_minute": client.rate_limit_per_minute,
        "events_per_minute": client.events_per_minute,
        "active": client.active,
        "created_at": client.created_at,
        "api_key_hash": client.api_key_hash,
        "api_key_prefix": client.api_key_prefix,
        "retention_days": client.retention_days,
    }


def _client(row: asyncpg.Record) -> Client:
    return Client(
        id=row["id"],
        name=row["name"],
        role=Role(row["role"]),
        rate_limit_per_minute=row["rate_limit_per_minute"],
        events_per_minute=row["events_per_minute"],
        active=row["active"],
        created_at=row["created_at"],
        api_key_hash=row["api_key_hash"],
        api_key_prefix=row["api_key_prefix"],
        retention_days=row["retention_days"],
    )


_VIEW_COLUMNS = (
    clients.c.id,
    clients.c.name,
    clients.c.role,
    clients.c.rate_limit_per_minute,
    clients.c.events_per_minute,
    clients.c.active,
    clients.c.created_at,
    clients.c.api_key_prefix,
    clients.c.retention_days,
)
_ONE_CLIENT = Statement.of(select(*_VIEW_COLUMNS).where(clients.c.id == bindparam("client_id")))
_ALL_CLIENTS = Statement.of(select(*_VIEW_COLUMNS).order_by(clients.c.created_at, clients.c.id))
_PRINCIPAL_BY = {
    column: Statement.of(
        select(
            clients.c.id,
            clients.c.role,
            clients.c.rate_limit_per_minute,
            clients.c.events_per_minute,
            clients.c.retention_days,
        ).where(clients.c[column] == bindparam("value"), clients.c.active)
    )
    for column in ("id", "api_key_hash")
}


_ACTIVE_AMONG = (
    "SELECT id, role, rate_limit_per_minute, events_per_minute, retention_days FROM clients "
    "WHERE id = ANY($1::uuid[]) AND active"
)


class PostgresClientReadModel(ClientReadModel):
    def __init__(self, engine: AsyncEngine, cache: PrincipalCache) -> None:
        self._engine = engine
        self._cache = cache

    async def get(self, client_id: UUID) -> ClientView | None:
        views = await self._views(_ONE_CLIENT, client_id=client_id)
        return views[0] if views else None

    async def list_all(self) -> list[ClientView]:
        return await self._views(_ALL_CLIENTS)

    async def principal_for_key(self, api_key_hash: str) -> Principal | None:
        return await self._principal("api_key_hash", api_key_hash, CredentialKind.API_KEY)

    async def principal_for_token(self, client_id: UUID) -> Principal | None:
        return await self._principal("id", client_id, CredentialKind.TOKEN)

    async def active_among(self, client_ids: Collection[UUID]) -> dict[UUID, Principal]:
        """Through the principal cache, as tokens are: the consumer asks this for every
        batch, and a deactivation announced by any process reaches it the same way."""
        active: dict[UUID, Principal] = {}
        unknown = []
        for client_id in client_ids:
            found, principal = self._cache.get(("id", client_id))
            if not found:
                unknown.append(client_id)
            elif principal is not None:
                active[client_id] = principal
        if not unknown:
            return active
        generation = self._cache.generation
        async with driver_connection(self._engine) as connection:
            rows = await connection.fetch(_ACTIVE_AMONG, unknown)
        found_now = {row["id"]: _principal_of(row, CredentialKind.TOKEN) for row in rows}
        for client_id in unknown:
            self._cache.put(("id", client_id), found_now.get(client_id), generation)
        return active | found_now

    async def _views(self, statement: Statement, **values: Any) -> list[ClientView]:
        async with driver_connection(self._engine) as connection:
            rows = await connection.fetch(statement.sql, *statement.args(**values))
        return [
            ClientView(
                id=row["id"],
                name=row["name"],
                role=Role(row["role"]),
                rate_limit_per_minute=row["rate_limit_per_minute"],
                events_per_minute=row["events_per_minute"],
                active=row["active"],
                created_at=row["created_at"],
                api_key_prefix=row["api_key_prefix"],
                retention_days=row["retention_days"],
            )
            for row in rows
        ]

    async def _principal(
        self, column: str, value: object, credential: CredentialKind
    ) -> Principal | None:
        found, principal = self._cache.get((column, value))
        if found:
            return principal
        generation = self._cache.generation
        statement = _PRINCIPAL_BY[column]
        async with driver_connection(self._engine) as connection:
            row = await connection.fetchrow(statement.sql, *statement.args(value=value))
        if row is not None:
            principal = _principal_of(row, credential)
        self._cache.put((column, value), principal, generation)
        return principal


def _principal_of(row: asyncpg.Record, credential: CredentialKind) -> Principal:
    return Principal(
        client_id=row["id"],
        role=Role(row["role"]),
        credential=credential,
        rate_limit_per_minute=row["rate_limit_per_minute"],
        events_per_minute=row["events_per_minute"],
        retention_days=row["retention_days"],
    )
