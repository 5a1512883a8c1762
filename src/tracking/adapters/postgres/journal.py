"""The event journal in PostgreSQL (migration 0010): written by the events' insert statement
(events.py), read here by position for the live stream's replay."""

from datetime import datetime
from uuid import UUID

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from tracking.adapters.postgres.database import driver_connection
from tracking.application.ports import EventJournal
from tracking.application.stream import JournalBounds, Positioned
from tracking.application.views import EventView

_BOUNDS = """
SELECT (SELECT min(first_position) FROM event_journal WHERE client_id = $1),
       (SELECT last_position FROM stream_positions WHERE client_id = $1)
"""
_SINCE = """
SELECT j.first_position + o.n - 1 AS position, e.id, e.user_id, e.action, e.occurred_at,
       e.received_at, e.metadata::text
FROM event_journal AS j
CROSS JOIN LATERAL unnest(j.ids) WITH ORDINALITY AS o(id, n)
JOIN event_keys AS k ON k.client_id = j.client_id AND k.id = o.id
JOIN events AS e ON e.client_id = k.client_id AND e.occurred_at = k.occurred_at AND e.id = k.id
WHERE j.client_id = $1 AND j.last_position > $2 AND j.first_position <= $3
  AND j.first_position + o.n - 1 > $2 AND j.first_position + o.n - 1 <= $3
ORDER BY position
"""
_FORGET = "DELETE FROM event_journal WHERE committed_at < $1"


class PostgresEventJournal(EventJournal):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def bounds(self, client_id: UUID) -> JournalBounds:
        async with driver_connection(self._engine) as connection:
            first, last = await connection.fetchrow(_BOUNDS, client_id)
        last = last or 0
        return JournalBounds(first=last + 1 if first is None else first, last=last)

    async def since(self, client_id: UUID, after: int, through: int) -> list[Positioned]:
        async with driver_connection(self._engine) as connection:
            rows = await connection.fetch(_SINCE, client_id, after, through)
        decode = msgspec.json.decode
        return [
            Positioned(
                row[0],
                EventView(
                    id=row[1],
                    user_id=row[2],
                    action=row[3],
                    occurred_at=row[4],
                    received_at=row[5],
                    metadata=decode(row[6]),
                ),
            )
            for row in rows
        ]

    async def forget_before(self, committed_before: datetime) -> int:
        async with driver_connection(self._engine) as connection:
            status = await connection.execute(_FORGET, committed_before)
        return int(status.rpartition(" ")[2])
