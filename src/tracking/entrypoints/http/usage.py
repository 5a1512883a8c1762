"""API usage routes: a tenant's requests per day, and the busiest clients (admin), answered
from the usage cache (`entrypoints/http/answers.py`)."""

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from tracking.application.handlers import Handlers
from tracking.application.queries.daily_usage import (
    MAX_DAYS,
    DailyUsage,
    DailyUsageAnswer,
    DailyUsageHandler,
)
from tracking.application.queries.top_clients import (
    DEFAULT_CLIENTS,
    MAX_CLIENTS,
    TopClients,
    TopClientsAnswer,
    TopClientsHandler,
)
from tracking.entrypoints.http.answers import (
    ANSWER_HEADERS,
    NOT_MODIFIED,
    IfNoneMatch,
    answered,
)
from tracking.entrypoints.http.auth import AuthenticatedRequest
from tracking.entrypoints.http.listing import From, Till, instant
from tracking.entrypoints.http.openapi import documented

FromDay = Annotated[
    str | None,
    QueryParameter(
        name="from",
        description="The first day, inclusive: YYYY-MM-DD, a date of `tz`. Default: 7 days "
        "before `till`.",
        format="date",
    ),
]
TillDay = Annotated[
    str | None,
    QueryParameter(
        name="till",
        description=f"The day after the last, exclusive: YYYY-MM-DD, at most {MAX_DAYS} days "
        "after `from`. Default: tomorrow in `tz` (today included).",
        format="date",
    ),
]
Tz = Annotated[
    str, QueryParameter(description="An IANA time zone, e.g. Europe/Paris, whose days these are.")
]
UsageOf = Annotated[
    UUID | None,
    QueryParameter(description="Admins only: this client's requests (without it, every client's)."),
]
Top = Annotated[int, QueryParameter(ge=1, le=MAX_CLIENTS, description="How many clients.")]


class UsageController(Controller):
    path = "/api/usage"
    tags = ("usage",)

    @get(
        "/daily",
        summary="API requests per day",
        description=DailyUsageHandler.__doc__,
        response_headers=ANSWER_HEADERS,
        responses={304: NOT_MODIFIED, **documented(400, 403)},
    )
    async def daily(
        self,
        *,
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
        first: FromDay = None,
        till: TillDay = None,
        tz: Tz = "UTC",
        client_id: UsageOf = None,
        if_none_match: IfNoneMatch = None,
    ) -> Response[DailyUsageAnswer]:
        query = DailyUsage(actor=request.user, client_id=client_id, first=first, till=till, tz=tz)
        return answered(await handlers.daily_usage(query), if_none_match)

    @get(
        "/top-clients",
        summary="The clients with the most API requests (admin)",
        description=TopClientsHandler.__doc__,
        response_headers=ANSWER_HEADERS,
        responses={304: NOT_MODIFIED, **documented(400, 403)},
    )
    async def top_clients(
        self,
        *,
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
        since: From = None,
        till: Till = None,
        limit: Top = DEFAULT_CLIENTS,
        if_none_match: IfNoneMatch = None,
    ) -> Response[TopClientsAnswer]:
        query = TopClients(
            actor=request.user,
            since=instant(since, "from"),
            till=instant(till, "till"),
            limit=limit,
        )
        return answered(await handlers.top_clients(query), if_none_match)
