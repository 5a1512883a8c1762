"""Metrics in PostgreSQL: each window aggregated by one INSERT ... SELECT ... GROUP BY."""

import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from tracking.adapters.postgres.database import driver_connection
from tracking.application.ports import ComputedWindow, MetricsStore
from tracking.domain.windows import Window, WindowSize

RUN_LOCK = 7_311_805_926_001  # pg advisory lock key: "one metrics run at a time"

# Taken first, it locks the window's log row: an insert that marks the window stale now
# waits for this computation to commit, and one that marked it earlier committed first (so
# the aggregation below, a later statement with a later snapshot, sees its events).
_LOCK_WINDOW = """
INSERT INTO metric_windows (window_hours, window_start, window_end, stale, computations)
VALUES ($1, $2, $3, false, 0)
ON CONFLICT (window_hours, window_start) DO UPDATE SET window_end = EXCLUDED.window_end
RETURNING computed_at
"""
_CLEAR_WINDOW = "DELETE FROM user_activity_metrics WHERE window_hours = $1 AND window_start = $2"
_AGGREGATE_WINDOW = """
WITH per_action AS (
    SELECT client_id, user_id, action, count(*) AS n,
           min(occurred_at) AS first_at, max(occurred_at) AS last_at
    FROM events
    WHERE occurred_at >= $2 AND occurred_at < $3
    GROUP BY client_id, user_id, action
), inserted AS (
    INSERT INTO user_activity_metrics (
        client_id, window_hours, window_start, user_id, window_end, event_count,
        distinct_actions, action_counts, first_event_at, last_event_at, computed_at
    )
    SELECT client_id, $1, $2, user_id, $3, sum(n)::int, count(*),
           jsonb_object_agg(action, n), min(first_at), max(last_at), $4
    FROM per_action
    GROUP BY client_id, user_id
    RETURNING event_count
)
SELECT count(*) AS users, coalesce(sum(event_count), 0)::bigint AS events FROM inserted
"""
_LOG_WINDOW = """
UPDATE metric_windows
SET stale = false, computed_at = $3, kind = $4, users = $5, events = $6, duration_ms = $7,
    computations = computations + 1
WHERE window_hours = $1 AND window_start = $2
"""
_UNSETTLED = """
SELECT s FROM unnest($2::timestamptz[]) AS starts(s)
WHERE NOT EXISTS (
    SELECT 1 FROM metric_windows w
    WHERE w.window_hours = $1 AND w.window_start = s AND w.computed_at IS NOT NULL
)
UNION
SELECT window_start FROM metric_windows WHERE window_hours = $1 AND stale
ORDER BY 1
"""


class PostgresMetricsStore(MetricsStore):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @contextlib.asynccontextmanager
    async def exclusive_run(self) -> AsyncIterator[bool]:
        """A session advisory lock, held on its own connection for the run: released when the
        run ends, or by PostgreSQL if this process dies."""
        async with driver_connection(self._engine) as connection:
            if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", RUN_LOCK):
                yield False
                return
            try:
                yield True
            finally:
                await connection.execute("SELECT pg_advisory_unlock($1)", RUN_LOCK)

    async def oldest_event_at(self) -> datetime | None:
        return await oldest_event_at(self._engine)

    async def unsettled(self, size: WindowSize, starts: Sequence[datetime]) -> list[datetime]:
        async with driver_connection(self._engine) as connection:
            rows = await connection.fetch(_UNSETTLED, size.hours, list(starts))
        return [row[0] for row in rows]

    async def compute(self, window: Window, computed_at: datetime) -> ComputedWindow:
        hours, start, end = window.size.hours, window.start, window.end
        async with driver_connection(self._engine) as connection, connection.transaction():
            # A window may hold millions of events: the request-sized statement timeout would
            # fail it on every run, and every later window with it.
            await connection.execute("SET LOCAL statement_timeout = 0")
            started = time.perf_counter()
            previous = await connection.fetchval(_LOCK_WINDOW, hours, start, end)
            await connection.execute(_CLEAR_WINDOW, hours, start)
            totals = await connection.fetchrow(_AGGREGATE_WINDOW, hours, start, end, computed_at)
            kind = "computed" if previous is None else "recomputed"
            duration_ms = (time.perf_counter() - started) * 1000
            await connection.execute(
                _LOG_WINDOW, hours, start, computed_at, kind, totals["users"],
                totals["events"], duration_ms,
            )  # fmt: skip
        return ComputedWindow(
            window=window,
            users=totals["users"],
            events=totals["events"],
            recomputed=previous is not None,
        )


async def oldest_event_at(engine: AsyncEngine) -> datetime | None:
    async with driver_connection(engine) as connection:
        oldest: datetime | None = await connection.fetchval("SELECT min(occurred_at) FROM events")
    return oldest
