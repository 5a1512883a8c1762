"""Metrics in PostgreSQL: each window aggregated by one INSERT ... SELECT ... GROUP BY."""

import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from tracking.adapters.postgres.database import driver_connection
from tracking.adapters.postgres.statements import Parameters
from tracking.application.ports import ComputedWindow, MetricsReadModel, MetricsStore
from tracking.application.views import MetricCriteria, UserMetricView, WindowView
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
MARK_STALE = """
INSERT INTO metric_windows (window_hours, window_start, window_end, stale, computations)
SELECT $1::int, starts.s, starts.s + make_interval(hours => $1::int), true, 0
FROM unnest($2::timestamptz[]) AS starts(s)
ON CONFLICT (window_hours, window_start) DO UPDATE SET stale = true
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
        async with driver_connection(self._engine) as connection:
            oldest: datetime | None = await connection.fetchval(
                "SELECT min(occurred_at) FROM events"
            )
        return oldest

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


_METRIC_COLUMNS = (
    "user_id, window_start, window_end, event_count, distinct_actions, action_counts::text, "
    "first_event_at, last_event_at, computed_at"
)


def list_metrics_sql(criteria: MetricCriteria) -> tuple[str, list[Any]]:
    conditions = ["client_id = $1", "window_hours = $2"]
    parameter = Parameters(criteria.client_id, criteria.window_hours)

    if criteria.user_id is not None:
        conditions.append(f"user_id = {parameter(criteria.user_id)}")
    if criteria.starts_from is not None:
        conditions.append(f"window_start >= {parameter(criteria.starts_from)}")
    if criteria.starts_till is not None:
        conditions.append(f"window_start < {parameter(criteria.starts_till)}")
    if criteria.after is not None:
        at, user_id = criteria.after
        conditions.append(f"(window_start, user_id) > ({parameter(at)}, {parameter(user_id)})")
    # Fixed fragments only: every value is a parameter.
    sql = (
        f"SELECT {_METRIC_COLUMNS} FROM user_activity_metrics "  # noqa: S608
        f"WHERE {' AND '.join(conditions)} "
        f"ORDER BY window_start, user_id LIMIT {parameter(criteria.limit)}"
    )
    return sql, parameter.values


_WINDOWS = """
SELECT window_start, window_end, stale, computed_at, kind, users, events, duration_ms,
       computations
FROM metric_windows
WHERE window_hours = $1 AND window_start >= $2 AND window_start < $3
ORDER BY window_start
"""


class PostgresMetricsReadModel(MetricsReadModel):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def list_metrics(self, criteria: MetricCriteria) -> list[UserMetricView]:
        sql, values = list_metrics_sql(criteria)
        async with driver_connection(self._engine) as connection:
            rows = await connection.fetch(sql, *values)
        return [
            UserMetricView(
                user_id=row[0],
                window_start=row[1],
                window_end=row[2],
                event_count=row[3],
                distinct_actions=row[4],
                action_counts=msgspec.json.decode(row[5]),
                first_event_at=row[6],
                last_event_at=row[7],
                computed_at=row[8],
            )
            for row in rows
        ]

    async def oldest_event_at(self) -> datetime | None:
        return await PostgresMetricsStore(self._engine).oldest_event_at()

    async def list_windows(
        self, size: WindowSize, starts_from: datetime, starts_till: datetime
    ) -> list[WindowView]:
        async with driver_connection(self._engine) as connection:
            rows = await connection.fetch(_WINDOWS, size.hours, starts_from, starts_till)
        return [
            WindowView(
                start=row["window_start"],
                end=row["window_end"],
                stale=row["stale"],
                computed_at=row["computed_at"],
                kind=row["kind"],
                users=row["users"],
                events=row["events"],
                duration_ms=row["duration_ms"],
                computations=row["computations"],
            )
            for row in rows
        ]
