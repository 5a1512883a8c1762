"""The metrics read side: per-user rows a keyset page at a time, and the run log."""

from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from tracking.adapters.postgres.database import driver_connection
from tracking.adapters.postgres.metrics import oldest_event_at
from tracking.adapters.postgres.statements import Keyset
from tracking.application.ports import MetricsReadModel
from tracking.application.views import MetricCriteria, UserMetricView, WindowView
from tracking.domain.windows import WindowSize

_LISTING = Keyset(
    columns="user_id, window_start, window_end, event_count, distinct_actions, "
    "action_counts::text, first_event_at, last_event_at, computed_at",
    table="user_activity_metrics",
    keys=("window_start", "user_id"),
)


def list_metrics_sql(criteria: MetricCriteria) -> tuple[str, list[Any]]:
    return _LISTING.page(
        [
            ("client_id = {}", criteria.client_id),
            ("window_hours = {}", criteria.window_hours),
            ("user_id = {}", criteria.user_id),
            ("window_start >= {}", criteria.starts_from),
            ("window_start < {}", criteria.starts_till),
        ],
        after=criteria.after,
        descending=False,
        limit=criteria.limit,
    )


_WINDOWS = """
SELECT window_start,
       coalesce(w.window_end, window_start + make_interval(hours => $1)) AS window_end,
       w.computed_at, w.kind, w.users, w.events, w.duration_ms,
       coalesce(w.computations, 0) AS computations, coalesce(s.clients, '{}') AS stale_clients
FROM (
    SELECT window_start, window_end, computed_at, kind, users, events, duration_ms, computations
    FROM metric_windows
    WHERE window_hours = $1 AND window_start >= $2 AND window_start < $3
) AS w
FULL JOIN (
    SELECT window_start, array_agg(client_id ORDER BY client_id) AS clients
    FROM stale_windows
    WHERE window_hours = $1 AND window_start >= $2 AND window_start < $3
    GROUP BY window_start
) AS s USING (window_start)
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
        return await oldest_event_at(self._engine)

    async def list_windows(
        self, size: WindowSize, starts_from: datetime, starts_till: datetime
    ) -> list[WindowView]:
        async with driver_connection(self._engine) as connection:
            rows = await connection.fetch(_WINDOWS, size.hours, starts_from, starts_till)
        return [
            WindowView(
                start=row["window_start"],
                end=row["window_end"],
                stale=bool(row["stale_clients"]),
                stale_clients=list(row["stale_clients"]),
                computed_at=row["computed_at"],
                kind=row["kind"],
                users=row["users"],
                events=row["events"],
                duration_ms=row["duration_ms"],
                computations=row["computations"],
            )
            for row in rows
        ]
