"""The request log and its usage figures: the rows written, and what the queries answer."""

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec


class LoggedRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One authenticated `/api` request. `route` is the route's template
    (`/api/clients/{client_id}`), never the path with its ids; `requested_at` is when it
    arrived. `(client_id, requested_at, id)` is its key: a batch written twice is stored once."""

    client_id: UUID
    requested_at: datetime
    id: UUID
    method: str
    route: str
    status: int
    duration_ms: float
    request_id: str


class RouteUsage(msgspec.Struct, frozen=True, kw_only=True):
    method: str
    route: Annotated[str, msgspec.Meta(description="The route's template, never a path.")]
    requests: int


class UsageFigures(msgspec.Struct, frozen=True, kw_only=True):
    """The requests of one period. Durations are nearest-rank percentiles, in milliseconds,
    None without a request."""

    requests: int = 0
    client_errors: int = 0
    server_errors: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    top_routes: list[RouteUsage] = msgspec.field(default_factory=list)


_PERCENTILE = (
    "Milliseconds from arrival to the last byte of the answer, nearest rank (a measured "
    "duration, never an interpolation); null without a request."
)


class DayUsage(msgspec.Struct, frozen=True, kw_only=True):
    date: date
    start: Annotated[datetime, msgspec.Meta(description="The day's first instant there.")]
    end: Annotated[datetime, msgspec.Meta(description="The next day's first instant.")]
    hours: Annotated[float, msgspec.Meta(description="23 or 25 when the clocks change.")]
    utc_offsets: Annotated[
        list[str],
        msgspec.Meta(
            description="The zone's offset at the start and, when it changed, at the end."
        ),
    ]
    requests: int
    client_errors: Annotated[int, msgspec.Meta(description="Answered 4xx.")]
    server_errors: Annotated[int, msgspec.Meta(description="Answered 5xx.")]
    p50_ms: Annotated[float | None, msgspec.Meta(description=_PERCENTILE)]
    p95_ms: Annotated[float | None, msgspec.Meta(description=_PERCENTILE)]
    top_routes: Annotated[
        list[RouteUsage],
        msgspec.Meta(description="The 5 busiest routes, then by method and route."),
    ]


class ClientUsage(msgspec.Struct, frozen=True, kw_only=True):
    client_id: UUID
    name: Annotated[str | None, msgspec.Meta(description="Null for an id that names no client.")]
    requests: int
