"""The consumer's small HTTP port: liveness, readiness and Prometheus metrics."""

import contextlib
from collections.abc import Callable, Iterator

import uvicorn
from litestar import Litestar, Response, get
from litestar.di import Provide

from tracking.application.queries.readiness import ReadinessHandler
from tracking.entrypoints.probes import HealthController

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def create_health_app(readiness: ReadinessHandler, exposition: Callable[[], bytes]) -> Litestar:
    @get("/metrics", summary="Prometheus metrics", media_type=CONTENT_TYPE)
    async def metrics() -> Response[bytes]:
        return Response(exposition(), media_type=CONTENT_TYPE)

    def provide_readiness() -> ReadinessHandler:
        return readiness

    return Litestar(
        route_handlers=[HealthController, metrics],
        dependencies={"readiness": Provide(provide_readiness, sync_to_thread=False)},
        openapi_config=None,
    )


class HealthServer(uvicorn.Server):
    """Serves inside the consumer's event loop; the consumer, not uvicorn, handles signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def health_server(app: Litestar, host: str, port: int) -> HealthServer:
    config = uvicorn.Config(app, host=host, port=port, log_config=None, lifespan="off")
    return HealthServer(config)
