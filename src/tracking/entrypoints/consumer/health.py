"""The consumer's small HTTP port: liveness, readiness and Prometheus metrics."""

import contextlib
from collections.abc import Callable, Iterator

import uvicorn
from litestar import Litestar
from litestar.di import Provide

from tracking.application.queries.readiness import ReadinessHandler
from tracking.entrypoints.probes import HealthController, metrics_route


def create_health_app(readiness: ReadinessHandler, exposition: Callable[[], bytes]) -> Litestar:
    def provide_readiness() -> ReadinessHandler:
        return readiness

    return Litestar(
        route_handlers=[HealthController, metrics_route(exposition)],
        dependencies={"readiness": Provide(provide_readiness, sync_to_thread=False)},
        openapi_config=None,
        logging_config=None,  # Litestar's own would replace the process's log handler
    )


class HealthServer(uvicorn.Server):
    """Serves inside the consumer's event loop; the consumer, not uvicorn, handles signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def health_server(app: Litestar, host: str, port: int, *, access_log: bool) -> HealthServer:
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, lifespan="off", access_log=access_log
    )
    return HealthServer(config)
