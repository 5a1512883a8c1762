"""Read models over PostgreSQL: one statement per query, rows decoded straight into views."""

from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tracking.adapters.postgres.database import unavailable_when_down
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
    values: list[Any] = [criteria.client_id]

    def parameter(value: Any) -> str:
        values.append(value)
        return f"${len(values)}"

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
    return sql, values


class PostgresEventReadModel(EventReadModel):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def list_events(self, criteria: EventCriteria) -> list[EventView]:
        sql, values = list_events_sql(criteria)
        with unavailable_when_down():
            async with self._engine.connect() as connection:
                rows = (await connection.exec_driver_sql(sql, tuple(values))).all()
        return [
            EventView(
                id=row.id,
                user_id=row.user_id,
                action=row.action,
                occurred_at=row.occurred_at,
                received_at=row.received_at,
                metadata=msgspec.json.decode(row.metadata),
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


class PostgresClientReadModel(ClientReadModel):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, client_id: UUID) -> ClientView | None:
        rows = await self._views(select(*_VIEW_COLUMNS).where(clients.c.id == client_id))
        return rows[0] if rows else None

    async def list_all(self) -> list[ClientView]:
        return await self._views(
            select(*_VIEW_COLUMNS).order_by(clients.c.created_at, clients.c.id)
        )

    async def principal_for_key(self, api_key_hash: str) -> Principal | None:
        return await self._principal(clients.c.api_key_hash == api_key_hash, CredentialKind.API_KEY)

    async def principal_for_token(self, client_id: UUID) -> Principal | None:
        return await self._principal(clients.c.id == client_id, CredentialKind.TOKEN)

    async def _views(self, statement: Any) -> list[ClientView]:
        with unavailable_when_down():
            async with self._engine.connect() as connection:
                rows = (await connection.execute(statement)).all()
        return [
            ClientView(
                id=row.id,
                name=row.name,
                role=Role(row.role),
                rate_limit_per_minute=row.rate_limit_per_minute,
                active=row.active,
                created_at=row.created_at,
                api_key_prefix=row.api_key_prefix,
            )
            for row in rows
        ]

    async def _principal(self, condition: Any, credential: CredentialKind) -> Principal | None:
        statement = select(clients.c.id, clients.c.role).where(condition, clients.c.active)
        with unavailable_when_down():
            async with self._engine.connect() as connection:
                row = (await connection.execute(statement)).first()
        if row is None:
            return None
        return Principal(client_id=row.id, role=Role(row.role), credential=credential)


class PostgresCheck:
    name = "database"

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def check(self) -> None:
        async with self._engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")
