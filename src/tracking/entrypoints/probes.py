"""Health routes for load balancers and Kubernetes probes, served by the API and by the
consumer alike; no authentication. Each app provides its own `readiness`."""

from litestar import Controller, Response, get
from litestar.di import NamedDependency

from tracking.application.queries.readiness import ReadinessHandler, ReadinessReport


class HealthController(Controller):
    path = "/health"
    tags = ("health",)

    @get("/live", summary="The process answers")
    async def live(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/ready", summary="Every dependency answers (200) or not (503)")
    async def ready(
        self, readiness: NamedDependency[ReadinessHandler]
    ) -> Response[ReadinessReport]:
        report = await readiness()
        return Response(report, status_code=200 if report.ready else 503)
