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

# One statement per batch, whatever its size. The batch travels as one JSON document, which
# msgspec encodes in C for a fifth of what asyncpg's binary arrays cost this process (and
# which keeps every instant exact: the binary codec turns the year 9999's last microsecond
# into infinity). Rows are inserted in key order, so two batches holding the same keys lock
# them in one order and cannot deadlock.
INSERT_EVENTS = """
INSERT INTO events (client_id, id, user_id, action, occurred_at, received_at, metadata)
SELECT (e->>0)::uuid, (e->>1)::uuid, e->>2, e->>3, (e->>4)::timestamptz,
       (e->>5)::timestamptz, e->6
FROM jsonb_array_elements($1::jsonb) AS e
ORDER BY 1, 2
ON CONFLICT (client_id, id) DO NOTHING
"""
# Asked only when fewer rows went in than were sent (a redelivery, a retry): the positions in
# the batch of the events stored before this transaction, whose rows it did not write.
STORED_BEFORE = """
SELECT b.position
FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS b(e, position)
JOIN events ON events.client_id = (b.e->>0)::uuid AND events.id = (b.e->>1)::uuid
WHERE events.xmin <> pg_current_xact_id()::xid
"""
_ENCODE = msgspec.json.Encoder().encode
# Metadata goes into the document as JSON, not as a string: decoded as `Raw`, it is checked to
# be exactly one JSON value, so no text can ever change the document's other fields.
_RAW = msgspec.json.Decoder(msgspec.Raw)


def batch_document(events: Sequence[Event]) -> str:
    return _ENCODE(
        [
            (
                e.client_id,
                e.id,
                e.user_id,
                e.action,
                e.occurred_at,
                e.received_at,
                _RAW.decode(e.metadata),
            )
            for e in events
        ]
    ).decode()


class PostgresEventRepository(EventRepository):
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def add_new(self, events: Sequence[Event]) -> set[EventKey]:
        document = batch_document(events)
        status = await self._connection.execute(INSERT_EVENTS, document)  # "INSERT 0 <rows>"
        if int(status.rpartition(" ")[2]) == len(events):
            return set()
        rows = await self._connection.fetch(STORED_BEFORE, document)
        return {(events[row[0] - 1].client_id, events[row[0] - 1].id) for row in rows}


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
