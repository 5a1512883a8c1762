"""Metrics in PostgreSQL: each window aggregated by one INSERT ... SELECT ... GROUP BY."""

import contextlib
import time
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from tracking.adapters.postgres.database import UNBOUNDED_SECONDS as LONG
from tracking.adapters.postgres.database import driver_connection
from tracking.application.ports import ComputedWindow, MetricsStore, StaleWindow
from tracking.domain.windows import Window, WindowSize

RUN_LOCK = 7_311_805_926_001  # pg advisory lock key: "one metrics run at a time"

# The window's log row, made and locked (runs are one at a time anyway).
_LOCK_WINDOW = """
INSERT INTO metric_windows (window_hours, window_start, window_end, computations)
VALUES ($1, $2, $3, 0)
ON CONFLICT (window_hours, window_start) DO UPDATE SET window_end = EXCLUDED.window_end
RETURNING computed_at
"""
# Taken before aggregating, in client order (as inserts take them, so the two cannot
# deadlock): the stale marks of the rows computed. An insert marking them now waits for this
# computation to commit and marks them again; one that marked them earlier committed first,
# so the aggregation below, a later statement with a later snapshot, sees its events.
_LOCK_MARKS = """
SELECT client_id FROM stale_windows
WHERE window_hours = $1 AND window_start = $2 AND ($3::uuid[] IS NULL OR client_id = ANY($3))
ORDER BY client_id
FOR UPDATE
"""
_CLEAR_MARKS = """
DELETE FROM stale_windows
WHERE window_hours = $1 AND window_start = $2 AND ($3::uuid[] IS NULL OR client_id = ANY($3))
"""
# The window's rows made equal to a fresh aggregation, writing only what differs: a row whose
# figures changed is updated and a new user's row inserted; an unchanged row (most of them,
# when a late event recomputes a window) is neither written nor locked, computed_at included.
_MERGE_WINDOW = """
MERGE INTO user_activity_metrics AS m
USING (
    SELECT client_id, user_id, sum(n)::int AS event_count, count(*)::int AS distinct_actions,
           jsonb_object_agg(action, n) AS action_counts, min(first_at) AS first_event_at,
           max(last_at) AS last_event_at
    FROM (
        SELECT client_id, user_id, action, count(*) AS n,
               min(occurred_at) AS first_at, max(occurred_at) AS last_at
        FROM events
        WHERE occurred_at >= $2 AND occurred_at < $3
          AND ($5::uuid[] IS NULL OR client_id = ANY($5))
        GROUP BY client_id, user_id, action
    ) AS per_action
    GROUP BY client_id, user_id
) AS f
ON m.client_id = f.client_id AND m.window_hours = $1 AND m.window_start = $2
   AND m.user_id = f.user_id
WHEN MATCHED AND (m.event_count, m.action_counts, m.first_event_at, m.last_event_at)
    IS DISTINCT FROM (f.event_count, f.action_counts, f.first_event_at, f.last_event_at) THEN
    UPDATE SET event_count = f.event_count, distinct_actions = f.distinct_actions,
               action_counts = f.action_counts, first_event_at = f.first_event_at,
               last_event_at = f.last_event_at, computed_at = $4
WHEN NOT MATCHED THEN
    INSERT (client_id, window_hours, window_start, user_id, window_end, event_count,
            distinct_actions, action_counts, first_event_at, last_event_at, computed_at)
    VALUES (f.client_id, $1, $2, f.user_id, $3, f.event_count, f.distinct_actions,
            f.action_counts, f.first_event_at, f.last_event_at, $4)
"""
# A recomputed window loses the rows of users left with no event in it (an erasure).
_REMOVE_VANISHED = """
DELETE FROM user_activity_metrics m
WHERE m.window_hours = $1 AND m.window_start = $2
  AND ($4::uuid[] IS NULL OR m.client_id = ANY($4))
  AND NOT EXISTS (
      SELECT 1 FROM events e
      WHERE e.client_id = m.client_id AND e.user_id = m.user_id
        AND e.occurred_at >= $2 AND e.occurred_at < $3
  )
"""
_WINDOW_TOTALS = """
SELECT count(*) AS users, coalesce(sum(event_count), 0)::bigint AS events
FROM user_activity_metrics WHERE window_hours = $1 AND window_start = $2
"""
_LOG_WINDOW = """
UPDATE metric_windows
SET computed_at = $3, kind = $4, users = $5, events = $6, duration_ms = $7,
    computations = computations + 1
WHERE window_hours = $1 AND window_start = $2
"""
_OCCUPIED = """
SELECT s FROM unnest($2::timestamptz[]) AS starts(s)
WHERE EXISTS (
    SELECT 1 FROM events
    WHERE occurred_at >= s AND occurred_at < s + make_interval(hours => $1::int)
)
"""
# Empty windows, all in one transaction: their log rows locked first (as a computation locks
# its window's), then, in a later snapshot, those that hold an event after all set aside.
_LOCK_WINDOWS = """
INSERT INTO metric_windows (window_hours, window_start, window_end, computations)
SELECT $1::int, s, s + make_interval(hours => $1::int), 0
FROM unnest($2::timestamptz[]) AS starts(s)
ORDER BY s
ON CONFLICT (window_hours, window_start) DO UPDATE SET window_end = EXCLUDED.window_end
"""
_CLEAR_WINDOWS = """
WITH marks AS (
    DELETE FROM stale_windows WHERE window_hours = $1 AND window_start = ANY($2::timestamptz[])
)
DELETE FROM user_activity_metrics WHERE window_hours = $1 AND window_start = ANY($2::timestamptz[])
"""
_LOG_EMPTY = """
UPDATE metric_windows
SET computed_at = $3,
    kind = CASE WHEN computed_at IS NULL THEN 'computed' ELSE 'recomputed' END,
    users = 0, events = 0, duration_ms = $4, computations = computations + 1
WHERE window_hours = $1 AND window_start = ANY($2::timestamptz[])
"""
_NEVER_COMPUTED = """
SELECT s FROM unnest($2::timestamptz[]) AS starts(s)
WHERE NOT EXISTS (
    SELECT 1 FROM metric_windows w
    WHERE w.window_hours = $1 AND w.window_start = s AND w.computed_at IS NOT NULL
)
ORDER BY 1
"""
_STALE = """
SELECT window_start, array_agg(client_id ORDER BY client_id) AS clients
FROM stale_windows WHERE window_hours = $1
GROUP BY window_start
ORDER BY window_start
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

    async def never_computed(self, size: WindowSize, starts: Sequence[datetime]) -> list[datetime]:
        async with driver_connection(self._engine) as connection:
            rows = await connection.fetch(_NEVER_COMPUTED, size.hours, list(starts))
        return [row[0] for row in rows]

    async def stale(self, size: WindowSize) -> list[StaleWindow]:
        async with driver_connection(self._engine) as connection:
            rows = await connection.fetch(_STALE, size.hours)
        return [
            StaleWindow(window=Window(start=row[0], size=size), clients=tuple(row[1]))
            for row in rows
        ]

    async def occupied(self, size: WindowSize, starts: Sequence[datetime]) -> set[datetime]:
        async with driver_connection(self._engine) as connection:
            rows = await connection.fetch(_OCCUPIED, size.hours, list(starts))
        return {row[0] for row in rows}

    async def record_empty(self, windows: Sequence[Window], computed_at: datetime) -> list[Window]:
        by_size: dict[WindowSize, list[datetime]] = {}
        for window in windows:
            by_size.setdefault(window.size, []).append(window.start)
        filled = []
        async with driver_connection(self._engine) as connection, connection.transaction():
            await connection.execute("SET LOCAL statement_timeout = 0", timeout=LONG)
            for size, starts in by_size.items():
                started = time.perf_counter()
                await connection.execute(_LOCK_WINDOWS, size.hours, starts, timeout=LONG)
                occupied = await connection.fetch(_OCCUPIED, size.hours, starts, timeout=LONG)
                now_occupied = {r[0] for r in occupied}
                empty = [start for start in starts if start not in now_occupied]
                await connection.execute(_CLEAR_WINDOWS, size.hours, empty, timeout=LONG)
                each_ms = (time.perf_counter() - started) * 1000 / max(1, len(empty))
                await connection.execute(
                    _LOG_EMPTY, size.hours, empty, computed_at, each_ms, timeout=LONG
                )
                filled += [Window(start=s, size=size) for s in sorted(now_occupied)]
        return filled

    async def compute(
        self, window: Window, computed_at: datetime, clients: Collection[UUID] | None = None
    ) -> ComputedWindow:
        hours, start, end = window.size.hours, window.start, window.end
        only = None if clients is None else sorted(clients)
        async with driver_connection(self._engine) as connection, connection.transaction():
            # A window may hold millions of events: the request-sized statement timeout would
            # fail it on every run, and every later window with it.
            await connection.execute("SET LOCAL statement_timeout = 0", timeout=LONG)
            started = time.perf_counter()
            previous = await connection.fetchval(_LOCK_WINDOW, hours, start, end, timeout=LONG)
            await connection.execute(_LOCK_MARKS, hours, start, only, timeout=LONG)
            await connection.execute(_CLEAR_MARKS, hours, start, only, timeout=LONG)
            await connection.execute(
                _MERGE_WINDOW, hours, start, end, computed_at, only, timeout=LONG
            )
            if previous is not None or only is not None:
                await connection.execute(_REMOVE_VANISHED, hours, start, end, only, timeout=LONG)
            totals = await connection.fetchrow(_WINDOW_TOTALS, hours, start, timeout=LONG)
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
            clients=None if only is None else tuple(only),
        )


async def oldest_event_at(engine: AsyncEngine) -> datetime | None:
    async with driver_connection(engine) as connection:
        oldest: datetime | None = await connection.fetchval("SELECT min(occurred_at) FROM events")
    return oldest
