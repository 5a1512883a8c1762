"""A transaction on one pooled connection, for one command, request or batch."""

from collections.abc import Sequence
from types import TracebackType
from typing import Self
from uuid import UUID

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import ColumnElement

from tracking.adapters.postgres.database import as_unavailable, unavailable_when_down
from tracking.adapters.postgres.tables import clients
from tracking.application.errors import Conflict
from tracking.application.ports import ClientRepository, EventKey, EventRepository, UnitOfWork
from tracking.domain.clients import Client, Role
from tracking.domain.events import Event

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


class PostgresEventRepository(EventRepository):
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add_new(self, events: Sequence[Event]) -> set[EventKey]:
        columns = (
            [e.client_id for e in events],
            [e.id for e in events],
            [e.user_id for e in events],
            [e.action for e in events],
            [e.occurred_at for e in events],
            [e.received_at for e in events],
            [e.metadata for e in events],
        )
        result = await self._connection.exec_driver_sql(INSERT_EVENTS, columns)
        return {(row.client_id, row.id) for row in result}


class PostgresClientRepository(ClientRepository):
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, client: Client) -> None:
        try:
            await self._connection.execute(insert(clients).values(_row(client)))
        except IntegrityError as error:
            # Two registrations of one name raced past the handler's check.
            raise Conflict("client_name_taken", f"a client named {client.name!r} exists") from error

    async def save(self, client: Client) -> None:
        statement = update(clients).where(clients.c.id == client.id).values(_row(client))
        if (await self._connection.execute(statement)).rowcount == 0:
            await self.add(client)

    async def get(self, client_id: UUID) -> Client | None:
        return await self._one(clients.c.id == client_id)

    async def get_by_name(self, name: str) -> Client | None:
        return await self._one(clients.c.name == name)

    async def get_by_key_hash(self, api_key_hash: str) -> Client | None:
        return await self._one(clients.c.api_key_hash == api_key_hash)

    async def count_active_admins(self) -> int:
        statement = select(func.count()).where(clients.c.active, clients.c.role == Role.ADMIN)
        return int((await self._connection.execute(statement)).scalar_one())

    async def _one(self, condition: ColumnElement[bool]) -> Client | None:
        result = await self._connection.execute(select(clients).where(condition))
        row = result.mappings().first()
        return None if row is None else _client(row)


def _row(client: Client) -> dict[str, object]:
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


def _client(values: RowMapping) -> Client:
    return Client(
        id=values["id"],
        name=values["name"],
        role=Role(values["role"]),
        rate_limit_per_minute=values["rate_limit_per_minute"],
        active=values["active"],
        created_at=values["created_at"],
        api_key_hash=values["api_key_hash"],
        api_key_prefix=values["api_key_prefix"],
    )


class PostgresUnitOfWork(UnitOfWork):
    """Rolls back unless `commit()` ran; an unreachable database is `Unavailable`."""

    events: PostgresEventRepository
    clients: PostgresClientRepository

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def __aenter__(self) -> Self:
        with unavailable_when_down():
            self._connection = await self._engine.connect()
            await self._connection.begin()
        self.events = PostgresEventRepository(self._connection)
        self.clients = PostgresClientRepository(self._connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self._connection.close()  # rolls back what was not committed
        except Exception as error:
            if exc is None:
                raise as_unavailable(error) or error from error
        if exc is not None and (unavailable := as_unavailable(exc)) is not None:
            raise unavailable from exc

    async def commit(self) -> None:
        with unavailable_when_down():
            await self._connection.commit()
