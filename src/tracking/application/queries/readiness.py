"""Readiness: whether every dependency answers, each with its own status."""

import asyncio
import logging
from collections.abc import Sequence

import msgspec

from tracking.application.ports import DependencyCheck

log = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0


class DependencyStatus(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    name: str
    status: str
    detail: str | None = None


class ReadinessReport(msgspec.Struct, frozen=True, kw_only=True):
    ready: bool
    dependencies: list[DependencyStatus]


class ReadinessHandler:
    """Ready only when every required dependency answers within two seconds; one that is not
    required (Redis) is `degraded` when it does not, and the process stays ready. Checks run
    concurrently."""

    def __init__(self, checks: Sequence[DependencyCheck]) -> None:
        self._checks = checks

    async def __call__(self) -> ReadinessReport:
        statuses = await asyncio.gather(*(self._status(check) for check in self._checks))
        return ReadinessReport(
            ready=all(s.status != "down" for s in statuses), dependencies=list(statuses)
        )

    async def _status(self, check: DependencyCheck) -> DependencyStatus:
        try:
            await asyncio.wait_for(check.check(), CHECK_TIMEOUT_SECONDS)
        except Exception as error:  # noqa: BLE001 - any failure means "not ready", with its reason
            # Probed every few seconds: the outage itself is said once where it is met.
            log.debug("readiness check %s failed: %r", check.name, error)
            status = "down" if check.required else "degraded"
            return DependencyStatus(name=check.name, status=status, detail=type(error).__name__)
        return DependencyStatus(name=check.name, status="ok")
