"""The database ceiling the benchmarks share: rows put in an unlogged staging table before the
clock starts, then inserted into `events` by PostgreSQL itself, a batch per statement, with
the service's own ordering and conflict rule. No client encodes or sends anything."""

import asyncio
import time
from collections.abc import Sequence

import asyncpg

STAGING = """
CREATE UNLOGGED TABLE IF NOT EXISTS staging (LIKE events);
ALTER TABLE staging ADD COLUMN IF NOT EXISTS seq bigint;
CREATE INDEX IF NOT EXISTS staging_seq ON staging (seq);
TRUNCATE staging
"""
# As the service's INSERT_EVENTS: each key into `event_keys` first, and only the events
# whose key went in.
FROM_STAGING = """
WITH new_keys AS (
    INSERT INTO event_keys (client_id, id, occurred_at)
    SELECT client_id, id, occurred_at FROM staging WHERE seq >= $1 AND seq < $2
    ORDER BY client_id, id
    ON CONFLICT (client_id, id) DO NOTHING
    RETURNING client_id, id
)
INSERT INTO events (client_id, id, user_id, action, occurred_at, received_at, metadata)
SELECT s.client_id, s.id, s.user_id, s.action, s.occurred_at, s.received_at, s.metadata
FROM staging AS s JOIN new_keys AS k ON k.client_id = s.client_id AND k.id = s.id
WHERE s.seq >= $1 AND s.seq < $2
"""


async def staged(dsn: str, rows: Sequence[tuple[object, ...]]) -> None:
    """`rows` as `events` columns; each gets its position as `seq`."""
    connection = await asyncpg.connect(dsn)
    await connection.execute(STAGING)
    records = [(*row, seq) for seq, row in enumerate(rows)]
    await connection.copy_records_to_table("staging", records=records)
    await connection.execute("ANALYZE staging")
    await connection.execute("CHECKPOINT")
    await connection.close()


async def insert_from_staging(
    dsn: str, count: int, batch: int, connections: int, seconds: float | None = None
) -> float:
    """Rows per second: the staged rows inserted `batch` per statement (a transaction each),
    on `connections` connections at once, until they are all in (or `seconds` have passed)."""
    starts = iter(range(0, count, batch))
    inserted = 0
    until = None if seconds is None else time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal inserted
        connection = await asyncpg.connect(dsn)
        for start in starts:
            if until is not None and time.perf_counter() >= until:
                break
            # One statement, its own transaction, as the service stores a batch with no late
            # window in it.
            status = await connection.execute(FROM_STAGING, start, start + batch)
            inserted += int(status.rpartition(" ")[2])
        await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return inserted / (time.perf_counter() - started)
