"""Health routes for load balancers and Kubernetes probes, served by the API and by the
consumer alike; no authentication. Each app provides its own `readiness`."""

from collections.abc import Callable

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec

from tracking.application.queries.readiness import ReadinessHandler, ReadinessReport


class HealthController(Controller):
    path = "/health"
    tags = ("health",)

    @get("/live", summary="The process answers")
    async def live(self) -> dict[str, str]:
        return {"status": "ok"}

    @get(
        "/ready",
        summary="Every dependency answers (200) or not (503)",
        responses={503: ResponseSpec(ReadinessReport, description="A dependency is down")},
    )
    async def ready(
        self, readiness: NamedDependency[ReadinessHandler]
    ) -> Response[ReadinessReport]:
        report = await readiness()
        return Response(report, status_code=200 if report.ready else 503)


PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"


def metrics_route(exposition: Callable[[], bytes]) -> HTTPRouteHandler:
    """`GET /metrics`: what `exposition` says, in Prometheus' text format (the API's: summed
    over its workers; the consumer's: its own)."""

    @get("/metrics", summary="Prometheus metrics", media_type=PROMETHEUS, tags=["health"])
    async def metrics() -> Response[bytes]:
        return Response(exposition(), media_type=PROMETHEUS)

    return metrics
