"""The request log in PostgreSQL: daily partitions of `request_log`, made ahead and dropped
whole, and rows written a batch per statement."""

import re
from collections.abc import Collection, Sequence
from datetime import date, timedelta

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from tracking.adapters.postgres.database import driver_connection
from tracking.application.ports import RequestLogStore
from tracking.application.usage import LoggedRequest

UPKEEP_LOCK = 7_311_805_926_002  # pg advisory lock key: "one partition upkeep at a time"
_PARTITION = re.compile(r"request_log_p(\d{8})")
_LOCK_TIMEOUT = "2s"
"""DDL on a partition locks the parent: rather fail (and try again later) than queue every
write behind a long query."""

# One JSON document for the batch: msgspec encodes it in a few microseconds a row, where
# eight parameter arrays cost asyncpg several abstract-class checks an element.
_INSERT = """
INSERT INTO request_log
    (client_id, requested_at, id, method, route, status, duration_ms, request_id)
SELECT * FROM json_to_recordset($1::json) AS r(
    client_id uuid, requested_at timestamptz, id uuid, method text, route text, status int2,
    duration_ms float8, request_id text
)
ON CONFLICT DO NOTHING
"""
_ENCODE = msgspec.json.Encoder().encode
_PARTITIONS = """
SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
WHERE i.inhparent = 'request_log'::regclass
"""


def partition_of(day: date) -> str:
    return f"request_log_p{day:%Y%m%d}"


def _attach(day: date) -> str:
    # Literals of our own making (a date): DDL takes no parameters.
    return (
        f"ALTER TABLE request_log ATTACH PARTITION {partition_of(day)} "
        f"FOR VALUES FROM ('{day.isoformat()} 00:00:00+00') "
        f"TO ('{(day + timedelta(days=1)).isoformat()} 00:00:00+00')"
    )


class PostgresRequestLogStore(RequestLogStore):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def prepare(self, days: Collection[date]) -> None:
        async with driver_connection(self._engine) as connection, connection.transaction():
            # Two processes making one partition at once would collide in the catalog.
            await connection.execute(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}'")
            await connection.execute("SELECT pg_advisory_xact_lock($1)", UPKEEP_LOCK)
            for day in sorted(days):
                name = partition_of(day)
                if await connection.fetchval("SELECT to_regclass($1)", name) is not None:
                    continue
                # Made apart, then attached: attaching locks the parent only against other
                # DDL, where CREATE TABLE ... PARTITION OF would stop its reads and writes.
                await connection.execute(f"CREATE TABLE {name} (LIKE request_log)")
                await connection.execute(_attach(day))

    async def add_all(self, rows: Sequence[LoggedRequest]) -> None:
        if not rows:
            return
        document = _ENCODE(rows).decode()
        async with driver_connection(self._engine) as connection:
            await connection.execute(_INSERT, document)

    async def drop_before(self, day: date) -> list[date]:
        async with driver_connection(self._engine) as connection, connection.transaction():
            await connection.execute(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}'")
            await connection.execute("SELECT pg_advisory_xact_lock($1)", UPKEEP_LOCK)
            names = [row[0] for row in await connection.fetch(_PARTITIONS)]
            old = sorted(d for d in map(_day_of, names) if d is not None and d < day)
            for past in old:
                await connection.execute(f"DROP TABLE IF EXISTS {partition_of(past)}")
        return old


def _day_of(name: str) -> date | None:
    """The day a partition of ours holds; None for a table of another name."""
    found = _PARTITION.fullmatch(name)
    if found is None:
        return None
    digits = found.group(1)
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
