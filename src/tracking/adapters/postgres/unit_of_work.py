"""A transaction on one pooled connection, for one command, request or batch."""

import contextlib
from collections.abc import Collection, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self
from uuid import UUID

import asyncpg
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from tracking.adapters.postgres.database import driver_connection, is_outage
from tracking.adapters.postgres.metrics import MARK_STALE
from tracking.adapters.postgres.principal_cache import PrincipalCache
from tracking.adapters.postgres.statements import Statement
from tracking.adapters.postgres.tables import clients
from tracking.application.errors import Conflict
from tracking.application.ports import (
    ClientRepository,
    EventKey,
    EventRepository,
    UnitOfWork,
    WindowRepository,
)
from tracking.domain.clients import Client, Role
from tracking.domain.events import Event
from tracking.domain.windows import Window

# One statement per batch, whatever its size: arrays in, the keys actually inserted out.
INSERT_EVENTS = """
INSERT INTO events (client_id, id, user_id, action, occurred_at, received_at, metadata)
SELECT * FROM unnest(
    $1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
    $7::jsonb[]
)
ON CONFLICT (client_id, id) DO NOTHING
RETURNING client_id, id
"""

_COLUMNS = [c.name for c in clients.c]
_INSERT_CLIENT = Statement.of(insert(clients).values({n: bindparam(n) for n in _COLUMNS}))
_UPDATE_CLIENT = Statement.of(
    update(clients)
    .where(clients.c.id == bindparam("client_id"))
    .values({n: bindparam(n) for n in _COLUMNS if n != "id"})
)
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


class PostgresEventRepository(EventRepository):
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def add_new(self, events: Sequence[Event]) -> set[EventKey]:
        # In key order, so two batches holding the same keys lock them in the same order and
        # cannot deadlock.
        events = sorted(events, key=lambda e: (e.client_id, e.id))
        rows = await self._connection.fetch(
            INSERT_EVENTS,
            [e.client_id for e in events],
            [e.id for e in events],
            [e.user_id for e in events],
            [e.action for e in events],
            [e.occurred_at for e in events],
            [e.received_at for e in events],
            [e.metadata for e in events],
        )
        return {(row[0], row[1]) for row in rows}


class PostgresClientRepository(ClientRepository):
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection
        self.changed: set[UUID] = set()

    async def add(self, client: Client) -> None:
        try:
            await self._connection.execute(_INSERT_CLIENT.sql, *_INSERT_CLIENT.args(**_row(client)))
        except asyncpg.UniqueViolationError as error:
            # Two registrations of one name raced past the handler's check.
            raise Conflict("client_name_taken", f"a client named {client.name!r} exists") from error

    async def save(self, client: Client) -> None:
        self.changed.add(client.id)
        values = _UPDATE_CLIENT.args(client_id=client.id, **_row(client))
        if await self._connection.execute(_UPDATE_CLIENT.sql, *values) == "UPDATE 0":
            await self.add(client)

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
        return None if row is None else _client(row)


def _row(client: Client) -> dict[str, Any]:
    return {
        "id": client.id,
        "name": client.name,
        "role": client.role.value,
        "rate_limit_per_minute": client.rate_limit_per_minute,
        "active": client.active,
        "created_at": client.created_at,
        "api_key_hash": client.api_key_hash,
        "api_key_prefix": client.api_key_prefix,
    }


def _client(row: asyncpg.Record) -> Client:
    return Client(
        id=row["id"],
        name=row["name"],
        role=Role(row["role"]),
        rate_limit_per_minute=row["rate_limit_per_minute"],
        active=row["active"],
        created_at=row["created_at"],
        api_key_hash=row["api_key_hash"],
        api_key_prefix=row["api_key_prefix"],
    )


class PostgresWindowRepository(WindowRepository):
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def mark_stale(self, windows: Collection[Window]) -> None:
        by_size: dict[int, list[datetime]] = {}
        for window in windows:
            by_size.setdefault(window.size.hours, []).append(window.start)
        for hours, starts in sorted(by_size.items()):
            # In one order, so two transactions marking the same windows cannot deadlock.
            await self._connection.execute(MARK_STALE, hours, sorted(starts))


class PostgresUnitOfWork(UnitOfWork):
    """Rolls back unless `commit()` ran; an unreachable database is `Unavailable`."""

    events: PostgresEventRepository
    clients: PostgresClientRepository
    windows: PostgresWindowRepository

    def __init__(self, engine: AsyncEngine, cache: PrincipalCache) -> None:
        self._engine = engine
        self._cache = cache
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> Self:
        connection = await self._stack.enter_async_context(driver_connection(self._engine))
        try:
            self._transaction = connection.transaction()
            await self._transaction.start()
        except BaseException:
            await self._stack.aclose()
            raise
        self._committed = False
        self.events = PostgresEventRepository(connection)
        self.clients = PostgresClientRepository(connection)
        self.windows = PostgresWindowRepository(connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed and not (exc is not None and is_outage(exc)):
                await self._transaction.rollback()
        finally:
            await self._stack.__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        await self._transaction.commit()
        self._committed = True
        self._cache.forget(self.clients.changed)
