"""Usage figures from the request log: one statement per question, grouped in the database.

Each row's period is `width_bucket` over the periods' bounds (computed by the application,
which knows the time zone's days); the scanned range is given apart, so PostgreSQL reads only
the partitions it covers. Percentiles are `percentile_disc`: nearest rank, as the domain
defines them. Routes tie-break in code-point order (`COLLATE "C"`), as Python compares."""

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from tracking.adapters.postgres.database import driver_connection
from tracking.application.ports import UsageReadModel
from tracking.application.usage import ClientUsage, RouteUsage, UsageFigures
from tracking.domain.usage import P50, P95

_PERIODS = f"""
WITH r AS (
    SELECT width_bucket(requested_at, $2::timestamptz[]) AS period, method, route, status,
           duration_ms
    FROM request_log
    WHERE ($1::uuid IS NULL OR client_id = $1::uuid)
      AND requested_at >= $3 AND requested_at < $4
),
periods AS (
    SELECT period, count(*) AS requests,
           count(*) FILTER (WHERE status BETWEEN 400 AND 499) AS client_errors,
           count(*) FILTER (WHERE status BETWEEN 500 AND 599) AS server_errors,
           percentile_disc({P50}) WITHIN GROUP (ORDER BY duration_ms) AS p50_ms,
           percentile_disc({P95}) WITHIN GROUP (ORDER BY duration_ms) AS p95_ms
    FROM r GROUP BY period
),
routes AS (
    SELECT period, method, route, requests,
           row_number() OVER (
               PARTITION BY period
               ORDER BY requests DESC, method COLLATE "C", route COLLATE "C"
           ) AS rank
    FROM (
        SELECT period, method, route, count(*) AS requests FROM r GROUP BY period, method, route
    ) AS per_route
)
SELECT p.period, p.requests, p.client_errors, p.server_errors, p.p50_ms, p.p95_ms,
       (SELECT json_agg(json_build_array(t.method, t.route, t.requests) ORDER BY t.rank)
        FROM routes AS t WHERE t.period = p.period AND t.rank <= $5)::text AS top_routes
FROM periods AS p
"""  # noqa: S608 - the constants are ours, every value is a parameter

_TOP_CLIENTS = """
SELECT l.client_id, c.name, l.requests
FROM (
    SELECT client_id, count(*) AS requests FROM request_log
    WHERE requested_at >= $1 AND requested_at < $2
    GROUP BY client_id
    ORDER BY requests DESC, client_id
    LIMIT $3
) AS l
LEFT JOIN clients AS c ON c.id = l.client_id
ORDER BY l.requests DESC, l.client_id
"""

_Routes = list[tuple[str, str, int]]


class PostgresUsageReadModel(UsageReadModel):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def periods(
        self, client_id: UUID | None, bounds: Sequence[datetime], top_routes: int
    ) -> list[UsageFigures]:
        async with driver_connection(self._engine) as connection:
            rows = await connection.fetch(
                _PERIODS, client_id, list(bounds), bounds[0], bounds[-1], top_routes
            )
        figures = [UsageFigures() for _ in bounds[1:]]
        for row in rows:
            routes = msgspec.json.decode(row["top_routes"] or "[]", type=_Routes)
            figures[row["period"] - 1] = UsageFigures(
                requests=row["requests"],
                client_errors=row["client_errors"],
                server_errors=row["server_errors"],
                p50_ms=row["p50_ms"],
                p95_ms=row["p95_ms"],
                top_routes=[RouteUsage(method=m, route=r, requests=n) for m, r, n in routes],
            )
        return figures

    async def top_clients(self, since: datetime, till: datetime, limit: int) -> list[ClientUsage]:
        async with driver_connection(self._engine) as connection:
            rows = await connection.fetch(_TOP_CLIENTS, since, till, limit)
        return [
            ClientUsage(client_id=row["client_id"], name=row["name"], requests=row["requests"])
            for row in rows
        ]
