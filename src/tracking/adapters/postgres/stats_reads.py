"""Product statistics in PostgreSQL: one statement per question, aggregated in the database.

The day's figures scan the day's events four times, each scan as narrow as its figure needs:
counts, distinct users and actions read the covering index on `(client_id, occurred_at, id)
INCLUDE (user_id, action)` alone (migration 0006); only the paths read the rows, for
their metadata. Four narrow parallel scans measured faster than one wide pass with grouping
sets, which PostgreSQL neither parallelizes nor keeps in memory at a million events.
Periods of a series are the domain's bounds, passed in (`width_bucket` over them), never
PostgreSQL's time zone arithmetic, so both adapters cut the days and hours alike.
Ties in top lists go by name in code-point order (`COLLATE "C"`), as the domain ranks."""

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from tracking.adapters.postgres.database import driver_connection
from tracking.application.ports import StatsReadModel
from tracking.application.stats import ActionCount, DayFigures, PathCount, PeriodFigures

_OF_DAY = "client_id = $1 AND occurred_at >= $2 AND occurred_at < $3"
# `domain/stats.py: path_of`, in SQL: the rule's property test holds the two together.
PATH = """CASE WHEN jsonb_typeof(metadata -> 'path') = 'string' THEN metadata ->> 'path'
     WHEN jsonb_typeof(metadata -> 'page') = 'string' THEN metadata ->> 'page' END"""
DAY = f"""
SELECT
  (SELECT count(*) FROM events WHERE {_OF_DAY}) AS total_events,
  (SELECT count(*) FROM (SELECT DISTINCT user_id FROM events WHERE {_OF_DAY}) AS u)
    AS unique_users,
  (SELECT coalesce(json_agg(json_build_array(action, n) ORDER BY n DESC, action COLLATE "C"),
                   '[]')::text
   FROM (SELECT action, count(*) AS n FROM events WHERE {_OF_DAY}
         GROUP BY action ORDER BY n DESC, action COLLATE "C" LIMIT $4) AS a) AS top_actions,
  (SELECT coalesce(json_agg(json_build_array(path, n) ORDER BY n DESC, path COLLATE "C"),
                   '[]')::text
   FROM (SELECT path, count(*) AS n
         FROM (SELECT {PATH} AS path FROM events WHERE {_OF_DAY}) AS p
         WHERE path IS NOT NULL
         GROUP BY path ORDER BY n DESC, path COLLATE "C" LIMIT $4) AS t) AS top_paths
"""  # noqa: S608 - fixed text
# Per (period, user) first, then per period: a hash aggregation, where count(DISTINCT)
# would sort a million rows on disk.
SERIES = """
SELECT period, sum(n)::bigint AS events, count(*) AS unique_users
FROM (
  SELECT width_bucket(occurred_at, $2::timestamptz[]) AS period, user_id, count(*) AS n
  FROM events
  WHERE client_id = $1 AND occurred_at >= $3 AND occurred_at < $4
    AND ($5::text IS NULL OR action = $5)
  GROUP BY period, user_id
) AS per_user
GROUP BY period
"""
_COUNTS = msgspec.json.Decoder(list[tuple[str, int]])


class PostgresStatsReadModel(StatsReadModel):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def day(self, client_id: UUID, start: datetime, end: datetime, top: int) -> DayFigures:
        async with driver_connection(self._engine) as connection:
            row = await connection.fetchrow(DAY, client_id, start, end, top)
        return DayFigures(
            total_events=row["total_events"],
            unique_users=row["unique_users"],
            top_actions=[
                ActionCount(action=a, events=n) for a, n in _COUNTS.decode(row["top_actions"])
            ],
            top_paths=[PathCount(path=p, events=n) for p, n in _COUNTS.decode(row["top_paths"])],
        )

    async def series(
        self, client_id: UUID, bounds: Sequence[datetime], action: str | None
    ) -> list[PeriodFigures]:
        if len(bounds) < 2:  # noqa: PLR2004 - a period needs its start and its end
            return []
        async with driver_connection(self._engine) as connection:
            rows = await connection.fetch(
                SERIES, client_id, list(bounds), bounds[0], bounds[-1], action
            )
        figures = [PeriodFigures() for _ in range(len(bounds) - 1)]
        for row in rows:  # period i of width_bucket is [bounds[i - 1], bounds[i])
            figures[row["period"] - 1] = PeriodFigures(
                events=row["events"], unique_users=row["unique_users"]
            )
        return figures
