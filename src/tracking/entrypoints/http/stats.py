"""Product stats routes: a day's figures and a series, answered from the stats cache
(`entrypoints/http/answers.py`)."""

from typing import Annotated

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from tracking.application.handlers import Handlers
from tracking.application.queries.daily_stats import DailyStats, DailyStatsHandler
from tracking.application.queries.stats_series import StatsSeries, StatsSeriesHandler
from tracking.application.stats import DailyStatsView, StatsSeriesView
from tracking.domain.periods import Interval
from tracking.entrypoints.http.answers import (
    ANSWER_HEADERS,
    NOT_MODIFIED,
    IfNoneMatch,
    answered,
)
from tracking.entrypoints.http.auth import AuthenticatedRequest
from tracking.entrypoints.http.listing import ClientId
from tracking.entrypoints.http.openapi import documented

_MOMENT = "An RFC 3339 instant with its offset, or a date YYYY-MM-DD (its first instant in `tz`)."
Day = Annotated[
    str | None,
    QueryParameter(name="date", format="date", description="YYYY-MM-DD; default: today in `tz`."),
]
Since = Annotated[str, QueryParameter(name="from", description=f"Inclusive. {_MOMENT}")]
Till = Annotated[str, QueryParameter(description=f"Exclusive. {_MOMENT}")]
Tz = Annotated[
    str, QueryParameter(description="An IANA time zone (e.g. Europe/Paris): whose days and hours.")
]
Every = Annotated[Interval, QueryParameter(description="A point per hour or per day of `tz`.")]
Action = Annotated[str | None, QueryParameter(description="Only this action's events.")]


class StatsController(Controller):
    path = "/api/stats"
    tags = ("stats",)

    @get(
        "/daily",
        summary="A day's events, users, top actions and paths",
        description=DailyStatsHandler.__doc__,
        response_headers=ANSWER_HEADERS,
        responses={304: NOT_MODIFIED, **documented(400, 403)},
    )
    async def daily(
        self,
        *,
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
        day: Day = None,
        tz: Tz = "UTC",
        client_id: ClientId = None,
        if_none_match: IfNoneMatch = None,
    ) -> Response[DailyStatsView]:
        query = DailyStats(actor=request.user, client_id=client_id, date=day, tz=tz)
        return answered(await handlers.daily_stats(query), if_none_match)

    @get(
        "/series",
        summary="Events and unique users per hour or day",
        description=StatsSeriesHandler.__doc__,
        response_headers=ANSWER_HEADERS,
        responses={304: NOT_MODIFIED, **documented(400, 403)},
    )
    async def series(
        self,
        *,
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
        since: Since,
        till: Till,
        interval: Every = Interval.DAY,
        tz: Tz = "UTC",
        action: Action = None,
        client_id: ClientId = None,
        if_none_match: IfNoneMatch = None,
    ) -> Response[StatsSeriesView]:
        query = StatsSeries(
            actor=request.user,
            client_id=client_id,
            since=since,
            till=till,
            interval=interval,
            tz=tz,
            action=action,
        )
        return answered(await handlers.stats_series(query), if_none_match)
