"""Outages, said once: a dependency going down is one WARNING with its cause, coming back one
INFO with how long it was gone; every operation that failed meanwhile is counted, not logged.

Per process: each process (worker, consumer) says it for itself."""

import logging
import time

from prometheus_client import Counter, Gauge, generate_latest

from tracking.adapters.prometheus import REGISTRY

log = logging.getLogger(__name__)

_FAILURES = Counter(
    "tracking_dependency_failures",
    "Operations that failed because a dependency was unavailable",
    ["dependency"],
    registry=REGISTRY,
)
_UP = Gauge(
    "tracking_dependency_up",
    "1 while the dependency answers, 0 from its first failure until it answers again",
    ["dependency"],
    registry=REGISTRY,
    # Across workers: down (0) while any live worker finds it down.
    multiprocess_mode="livemin",
)


class Outage:
    """The state of one dependency as this process sees it."""

    def __init__(self, dependency: str) -> None:
        self.dependency = dependency
        self._down_since: float | None = None
        self._failures = 0
        _UP.labels(dependency).set(1)

    def failed(self, cause: BaseException) -> None:
        _FAILURES.labels(self.dependency).inc()
        self._failures += 1
        if self._down_since is None:
            self._down_since = time.monotonic()
            _UP.labels(self.dependency).set(0)
            log.warning("%s unavailable: %r", self.dependency, cause)

    def answered(self) -> None:
        if self._down_since is None:
            return
        gone = time.monotonic() - self._down_since
        log.info(
            "%s available again after %.1f s (%d operations failed meanwhile)",
            self.dependency,
            gone,
            self._failures,
        )
        self._down_since, self._failures = None, 0
        _UP.labels(self.dependency).set(1)


DATABASE = Outage("database")
KAFKA = Outage("kafka")
REDIS = Outage("redis")


def exposition() -> bytes:
    """These counters in Prometheus' text format."""
    return generate_latest(REGISTRY)
