"""Product stats routes: a day's figures and a series, answered from the stats cache with an
ETag (`If-None-Match` gets 304) and a Cache-Control that tells settled answers from open ones."""

from typing import Annotated, Any

from litestar import Controller, Response, get
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter, QueryParameter

from tracking.application.handlers import Handlers
from tracking.application.queries.daily_stats import DailyStats, DailyStatsHandler
from tracking.application.queries.stats_series import StatsSeries, StatsSeriesHandler
from tracking.application.stats import DailyStatsView, StatsSeriesView
from tracking.application.stats_cache import StatsAnswer
from tracking.domain.periods import Interval
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
IfNoneMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-None-Match", description="An `ETag` of an earlier answer: 304 if same."
    ),
]
# Tenant-scoped: no shared cache may keep it, and a browser keys it by credential too.
_VARY = "Authorization, X-API-Key"
_HEADERS = [
    ResponseHeader(
        name="ETag", documentation_only=True, required=True, description="The answer's version."
    ),
    ResponseHeader(
        name="Cache-Control",
        documentation_only=True,
        required=True,
        description="`private, no-cache` for a settled period (a late event changes it: "
        "revalidate, 304 while unchanged); `private, max-age=N` for one still open.",
    ),
]
_NOT_MODIFIED = ResponseSpec(None, description="Not modified: the `If-None-Match` answer")


class StatsController(Controller):
    path = "/api/stats"
    tags = ("stats",)

    @get(
        "/daily",
        summary="A day's events, users, top actions and paths",
        description=DailyStatsHandler.__doc__,
        response_headers=_HEADERS,
        responses={304: _NOT_MODIFIED, **documented(400, 403)},
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
        return _answered(await handlers.daily_stats(query), if_none_match)

    @get(
        "/series",
        summary="Events and unique users per hour or day",
        description=StatsSeriesHandler.__doc__,
        response_headers=_HEADERS,
        responses={304: _NOT_MODIFIED, **documented(400, 403)},
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
        return _answered(await handlers.stats_series(query), if_none_match)


def _answered(answer: StatsAnswer, if_none_match: str | None) -> Response[Any]:
    """The view's JSON as it was encoded once, when computed (and cached): the route's
    annotation documents its shape, Litestar sends the bytes as they are."""
    cache_control = "private, no-cache" if answer.settled else f"private, max-age={answer.max_age}"
    headers = {"ETag": answer.etag, "Cache-Control": cache_control, "Vary": _VARY}
    if if_none_match is not None and _names(if_none_match, answer.etag):
        return Response(b"", status_code=304, headers=headers)
    return Response(answer.body, status_code=200, media_type="application/json", headers=headers)


def _names(if_none_match: str, etag: str) -> bool:
    """RFC 9110's weak comparison, as `If-None-Match` asks: `W/` aside, or `*`."""
    tags = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    return any(tag in {etag, "*"} for tag in tags)
