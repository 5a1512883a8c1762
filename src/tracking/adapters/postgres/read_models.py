"""Read models over PostgreSQL: one statement per query, rows decoded straight into views."""

from collections.abc import Collection
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tracking.adapters.postgres.database import driver_connection
from tracking.adapters.postgres.principal_cache import PrincipalCache
from tracking.adapters.postgres.statements import Parameters, Statement
from tracking.adapters.postgres.tables import clients
from tracking.application.ports import ClientReadModel, EventReadModel
from tracking.application.principal import CredentialKind, Principal
from tracking.application.views import ClientView, EventCriteria, EventView, Order
from tracking.domain.clients import Role

_EVENT_COLUMNS = "id, user_id, action, occurred_at, received_at, metadata::text"


def list_events_sql(criteria: EventCriteria) -> tuple[str, list[Any]]:
    """The SQL for one listing, built from fixed fragments (values are always parameters).
    Its shapes are few, so each is prepared once per connection and then reused."""
    conditions = ["client_id = $1"]
    parameter = Parameters(criteria.client_id)

    if criteria.user_id is not None:
        conditions.append(f"user_id = {parameter(criteria.user_id)}")
    if criteria.action is not None:
        conditions.append(f"action = {parameter(criteria.action)}")
    if criteria.occurred_from is not None:
        conditions.append(f"occurred_at >= {parameter(criteria.occurred_from)}")
    if criteria.occurred_till is not None:
        conditions.append(f"occurred_at < {parameter(criteria.occurred_till)}")
    newest_first = criteria.order is Order.NEWEST_FIRST
    if criteria.after is not None:
        at, event_id = criteria.after
        beyond = "<" if newest_first else ">"
        conditions.append(f"(occurred_at, id) {beyond} ({parameter(at)}, {parameter(event_id)})")
    direction = "DESC" if newest_first else "ASC"
    # Fixed fragments only: every value is a parameter.
    sql = (
        f"SELECT {_EVENT_COLUMNS} FROM events WHERE {' AND '.join(conditions)} "  # noqa: S608
        f"ORDER BY occurred_at {direction}, id {direction} LIMIT {parameter(criteria.limit)}"
    )
    return sql, parameter.values


class PostgresEventReadModel(EventReadModel):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def list_events(self, criteria: EventCriteria) -> list[EventView]:
        sql, values = list_events_sql(criteria)
        async with driver_connection(self._engine) as connection:
            rows = await connection.fetch(sql, *values)
        decode = msgspec.json.decode
        return [
            EventView(
                id=row[0],
                user_id=row[1],
                action=row[2],
                occurred_at=row[3],
                received_at=row[4],
                metadata=decode(row[5]),
            )
            for row in rows
        ]


_VIEW_COLUMNS = (
    clients.c.id,
    clients.c.name,
    clients.c.role,
    clients.c.rate_limit_per_minute,
    clients.c.active,
    clients.c.created_at,
    clients.c.api_key_prefix,
)
_ONE_CLIENT = Statement.of(select(*_VIEW_COLUMNS).where(clients.c.id == bindparam("client_id")))
_ALL_CLIENTS = Statement.of(select(*_VIEW_COLUMNS).order_by(clients.c.created_at, clients.c.id))
_PRINCIPAL_BY = {
    column: Statement.of(
        select(clients.c.id, clients.c.role).where(
            clients.c[column] == bindparam("value"), clients.c.active
        )
    )
    for column in ("id", "api_key_hash")
}


_ACTIVE_AMONG = "SELECT id FROM clients WHERE id = ANY($1::uuid[]) AND active"


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

    async def active_among(self, client_ids: Collection[UUID]) -> set[UUID]:
        async with driver_connection(self._engine) as connection:
            rows = await connection.fetch(_ACTIVE_AMONG, list(client_ids))
        return {row[0] for row in rows}

    async def _views(self, statement: Statement, **values: Any) -> list[ClientView]:
        async with driver_connection(self._engine) as connection:
            rows = await connection.fetch(statement.sql, *statement.args(**values))
        return [
            ClientView(
                id=row["id"],
                name=row["name"],
                role=Role(row["role"]),
                rate_limit_per_minute=row["rate_limit_per_minute"],
                active=row["active"],
                created_at=row["created_at"],
                api_key_prefix=row["api_key_prefix"],
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
            principal = Principal(
                client_id=row["id"], role=Role(row["role"]), credential=credential
            )
        self._cache.put((column, value), principal, generation)
        return principal


class PostgresCheck:
    name = "database"

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def check(self) -> None:
        async with driver_connection(self._engine) as connection:
            await connection.fetchval("SELECT 1")
