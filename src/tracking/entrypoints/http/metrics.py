"""Metrics routes: run the calculation, read per-user metrics, read the run log."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec

from tracking.application.commands.calculate_metrics import (
    CalculateMetrics,
    CalculateMetricsHandler,
)
from tracking.application.handlers import Handlers
from tracking.application.queries.list_metric_windows import (
    ListMetricWindows,
    ListMetricWindowsHandler,
)
from tracking.application.queries.list_metrics import ListMetrics, ListMetricsHandler, MetricsPage
from tracking.application.views import WindowView
from tracking.entrypoints.http.auth import AuthenticatedRequest
from tracking.entrypoints.http.listing import (
    DEFAULT_LIMIT,
    ClientId,
    Cursor,
    From,
    Limit,
    Till,
    UserId,
    instant,
)
from tracking.entrypoints.http.openapi import documented


class ComputedWindowOut(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    start: datetime
    end: datetime
    users: Annotated[int, msgspec.Meta(description="The window's user rows after the run.")]
    events: int
    kind: Literal["computed", "recomputed"]
    clients: Annotated[
        list[UUID] | None,
        msgspec.Meta(
            description="Whose rows were recomputed, after their late events; absent when the "
            "whole window was computed."
        ),
    ] = None


class MetricsRunOut(msgspec.Struct, frozen=True, kw_only=True):
    windows: Annotated[
        list[ComputedWindowOut], msgspec.Meta(description="Windows with events, computed.")
    ]
    empty: Annotated[
        int, msgspec.Meta(description="Due windows without a single event, recorded at once.")
    ]
    pending: Annotated[int, msgspec.Meta(description="Due windows left for the next run.")]
    pending_by_client: Annotated[
        dict[UUID, int],
        msgspec.Meta(
            description="Of those, the windows with a client's late events, by client: what "
            "each tenant's history has queued."
        ),
    ]


class AlreadyRunning(msgspec.Struct, frozen=True, kw_only=True):
    already_running: bool = True


class WindowsOut(msgspec.Struct, frozen=True, kw_only=True):
    windows: list[WindowView]


class MetricsController(Controller):
    path = "/api/metrics"
    tags = ("metrics",)

    @post(
        "/",
        status_code=200,
        summary="Calculate metrics now (admin)",
        description=CalculateMetricsHandler.__doc__,
        responses={
            # The answer is one shape per status, not a union to tell apart by its fields.
            200: ResponseSpec(MetricsRunOut, description="The run's windows"),
            202: ResponseSpec(AlreadyRunning, description="Another run holds the lock"),
            **documented(401, 403),
        },
    )
    async def calculate(
        self,
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
    ) -> Response[MetricsRunOut | AlreadyRunning]:
        run = await handlers.calculate_metrics(CalculateMetrics(actor=request.user))
        if run.already_running:
            return Response(AlreadyRunning(), status_code=202)
        windows = [
            ComputedWindowOut(
                start=c.window.start,
                end=c.window.end,
                users=c.users,
                events=c.events,
                kind="recomputed" if c.recomputed else "computed",
                clients=None if c.clients is None else list(c.clients),
            )
            for c in run.computed
        ]
        answer = MetricsRunOut(
            windows=windows,
            empty=run.empty,
            pending=run.pending,
            pending_by_client=run.pending_by_client,
        )
        return Response(answer, status_code=200)

    @get(
        "/",
        summary="Per-user metrics by window",
        description=ListMetricsHandler.__doc__,
        responses=documented(400, 401, 403),
    )
    async def list_metrics(
        self,
        *,
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
        user_id: UserId = None,
        starts_from: From = None,
        starts_till: Till = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        client_id: ClientId = None,
    ) -> MetricsPage:
        query = ListMetrics(
            actor=request.user,
            client_id=client_id,
            user_id=user_id,
            starts_from=instant(starts_from, "from"),
            starts_till=instant(starts_till, "till"),
            limit=limit,
            cursor=cursor,
        )
        return await handlers.list_metrics(query)

    @get(
        "/windows",
        summary="The metrics run log (admin)",
        description=ListMetricWindowsHandler.__doc__,
        responses=documented(400, 401, 403),
    )
    async def windows(
        self,
        *,
        request: AuthenticatedRequest,
        handlers: NamedDependency[Handlers],
        starts_from: From = None,
        starts_till: Till = None,
    ) -> WindowsOut:
        query = ListMetricWindows(
            actor=request.user,
            starts_from=instant(starts_from, "from"),
            starts_till=instant(starts_till, "till"),
        )
        return WindowsOut(windows=await handlers.list_metric_windows(query))
