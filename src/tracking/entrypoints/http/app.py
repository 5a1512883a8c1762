"""`create_app(container)`: the Litestar application over a container, which its lifespan
opens (resources, handlers) and closes."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.types import ControllerRouterHandler

from tracking.application.handlers import Handlers
from tracking.application.queries.readiness import ReadinessHandler
from tracking.bootstrap import Container, resolved, shut_down
from tracking.entrypoints.admin import ensure_admin
from tracking.entrypoints.http.answer_headers import AnswerHeaders
from tracking.entrypoints.http.auth import ApiAuthentication
from tracking.entrypoints.http.clients import ClientController
from tracking.entrypoints.http.dashboard import dashboard_routes
from tracking.entrypoints.http.events import MAX_BATCH_BYTES, EventController
from tracking.entrypoints.http.metrics import MetricsController
from tracking.entrypoints.http.observed import ObservedRequests
from tracking.entrypoints.http.openapi import complete, openapi_config
from tracking.entrypoints.http.problems import EXCEPTION_HANDLERS
from tracking.entrypoints.http.recording import RequestRecorder
from tracking.entrypoints.http.request_logs import RequestLogContext
from tracking.entrypoints.http.schemas import ClientIn, ClientUpdateIn, EventBatchSchema, EventIn
from tracking.entrypoints.http.single_event import SingleEventRoute
from tracking.entrypoints.http.stats import StatsController
from tracking.entrypoints.http.stream import StreamController
from tracking.entrypoints.http.tokens import TokenController
from tracking.entrypoints.http.usage import UsageController
from tracking.entrypoints.http.users import ErasureController, UserController
from tracking.entrypoints.probes import HealthController, metrics_route
from tracking.entrypoints.prometheus import api_registry, exposition
from tracking.entrypoints.schedule import (
    run_journal_trim,
    run_metrics_schedule,
    run_retention_schedule,
)
from tracking.entrypoints.server import WHEN_STOPPING


def create_app(container: Container, *, admin: bool = True) -> Litestar:
    """`admin`: ensure at start that an operator can reach the admin API (`serve` with several
    workers does it once, before they start, instead)."""
    # Litestar deep-copies routers, with their middleware, when it registers them: anything
    # holding shared state (the handlers) is reached through the app's state instead.
    api = Router(
        path="/",
        route_handlers=[
            EventController,
            ClientController,
            TokenController,
            StreamController,
            MetricsController,
            UsageController,
            StatsController,
            UserController,
            ErasureController,
        ],
        security=[{"BearerToken": []}, {"ApiKey": []}],
    )
    settings = container.settings()
    metrics = api_registry(container.metrics_registry())
    probes: list[ControllerRouterHandler] = [HealthController]
    recorder = RequestRecorder()
    if not settings.prometheus_port:  # else served on that port only (server.py, workers.py)
        probes.append(metrics_route(exposition(metrics)))
    app = Litestar(
        route_handlers=[api, *probes, *dashboard_routes()],
        dependencies={
            "handlers": Provide(_handlers, use_cache=True, sync_to_thread=False),
            "readiness": Provide(_readiness, use_cache=True, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[RequestLogContext(), ApiAuthentication()],
        state=State({"trusted_proxies": settings.trusted_networks, "metrics": metrics}),
        lifespan=[_opened(container, recorder, admin=admin)],
        openapi_config=openapi_config(),
        request_max_body_size=MAX_BATCH_BYTES,
        logging_config=None,
    )
    closed = (EventIn, EventBatchSchema, ClientIn, ClientUpdateIn)
    complete(app.openapi_schema, closed=[schema.__name__ for schema in closed])
    # Around the router, not among its middleware: route middleware never sees a request
    # that matched no route. (Litestar's own OpenTelemetry plugin wraps it so.) The single
    # event's way in, beside the router, adds its own headers and observes itself.
    observed = ObservedRequests(AnswerHeaders(app.asgi_handler), record=recorder)
    app.asgi_handler = SingleEventRoute(observed, observe=observed.observe)
    return app


def _handlers(state: State) -> Handlers:
    handlers: Handlers = state.handlers
    return handlers


def _readiness(state: State) -> ReadinessHandler:
    return _handlers(state).readiness


def _opened(
    container: Container, recorder: RequestRecorder, *, admin: bool
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """Opens the container's resources, the request log the `recorder` writes to among them,
    and closes them."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            handlers = await resolved(container.handlers())
            app.state.handlers = handlers
            await resolved(container.event_partitions())
            recorder.log = await resolved(container.request_log())
            settings = container.settings()
            if admin:
                await ensure_admin(handlers, settings)
            schedules = [asyncio.create_task(run_journal_trim(handlers.stream_events))]
            if settings.metrics_schedule == "internal":
                schedules.append(
                    asyncio.create_task(
                        run_metrics_schedule(
                            handlers.calculate_metrics,
                            container.clock(),
                            container.metrics_policy(),
                        )
                    )
                )
            if settings.retention_interval_seconds:
                schedules.append(
                    asyncio.create_task(
                        run_retention_schedule(
                            handlers.apply_retention, settings.retention_interval_seconds
                        )
                    )
                )
            WHEN_STOPPING.append(handlers.stream_events.close_all)
            try:
                yield
            finally:
                WHEN_STOPPING.remove(handlers.stream_events.close_all)
                for schedule in schedules:
                    schedule.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await schedule
        finally:
            recorder.log = None  # what is answered from now on is not kept: the log closes
            await shut_down(container)

    return lifespan
