"""`create_app(container)`: the Litestar application over a composed container."""

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Router
from litestar.di import Provide

from tracking.application.commands.ensure_admin import AdminChange, EnsureAdmin
from tracking.bootstrap import Container, close
from tracking.entrypoints.http.auth import ApiAuthentication
from tracking.entrypoints.http.clients import ClientController
from tracking.entrypoints.http.events import MAX_BATCH_BYTES, EventController
from tracking.entrypoints.http.health import HealthController
from tracking.entrypoints.http.metrics import MetricsController
from tracking.entrypoints.http.openapi import openapi_config
from tracking.entrypoints.http.problems import EXCEPTION_HANDLERS
from tracking.entrypoints.http.request_id import add_request_id
from tracking.entrypoints.http.tokens import TokenController
from tracking.entrypoints.schedule import run_metrics_schedule

_HANDLERS = (
    "record_events",
    "register_client",
    "rotate_api_key",
    "deactivate_client",
    "issue_access_token",
    "list_events",
    "get_client",
    "list_clients",
    "readiness",
    "calculate_metrics",
    "list_metrics",
    "list_metric_windows",
)


def create_app(container: Container) -> Litestar:
    # Litestar deep-copies routers, with their middleware, when it registers them: anything
    # holding shared state (the handlers, the authentication) is handed over at the app level.
    api = Router(
        path="/",
        route_handlers=[EventController, ClientController, TokenController, MetricsController],
        security=[{"BearerToken": []}, {"ApiKey": []}],
    )
    return Litestar(
        route_handlers=[api, HealthController],
        dependencies={name: _constant(getattr(container, name)()) for name in _HANDLERS},
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[ApiAuthentication(container.authenticate())],
        before_send=[add_request_id],
        lifespan=[_admin_ensured(container)],
        openapi_config=openapi_config(),
        request_max_body_size=MAX_BATCH_BYTES,
        logging_config=None,
    )


def _constant(value: object) -> Provide:
    def provide() -> Any:
        return value

    return Provide(provide, use_cache=True, sync_to_thread=False)


def _admin_ensured(container: Container) -> Callable[[Litestar], Any]:
    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        settings = container.settings()
        ensured = await container.ensure_admin()(EnsureAdmin(api_key=settings.admin_api_key))
        if ensured.change is AdminChange.CREATED and ensured.new_api_key is not None:
            sys.stderr.write(
                "tracking: created the admin client; its API key, shown this once:\n"
                f"  {ensured.new_api_key}\n"
            )
        schedule = None
        if settings.metrics_schedule == "internal":
            schedule = asyncio.create_task(
                run_metrics_schedule(
                    container.calculate_metrics(), container.clock(), container.metrics_policy()
                )
            )
        try:
            yield
        finally:
            if schedule is not None:
                schedule.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await schedule
            await close(container)

    return lifespan
