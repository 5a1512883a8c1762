"""Events in PostgreSQL: stored in one statement per batch, listed a keyset page at a time."""

from collections.abc import Sequence
from typing import Any

import asyncpg
import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from tracking.adapters.postgres.database import driver_connection
from tracking.adapters.postgres.statements import Keyset
from tracking.application.ports import EventKey, EventReadModel, EventRepository
from tracking.application.views import EventCriteria, EventView, Order
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


_LISTING = Keyset(
    columns="id, user_id, action, occurred_at, received_at, metadata::text",
    table="events",
    keys=("occurred_at", "id"),
)


def list_events_sql(criteria: EventCriteria) -> tuple[str, list[Any]]:
    return _LISTING.page(
        [
            ("client_id = {}", criteria.client_id),
            ("user_id = {}", criteria.user_id),
            ("action = {}", criteria.action),
            ("occurred_at >= {}", criteria.occurred_from),
            ("occurred_at < {}", criteria.occurred_till),
        ],
        after=criteria.after,
        descending=criteria.order is Order.NEWEST_FIRST,
        limit=criteria.limit,
    )


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
