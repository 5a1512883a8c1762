"""The database pool, counting as it goes the connections checked out of it and the callers
waiting for one: no work at a scrape, and right across workers, where a scrape served by one
worker cannot ask the others' pools."""

from typing import Any

from prometheus_client import Gauge
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry

from tracking.adapters.prometheus import REGISTRY

IN_USE = Gauge(
    "tracking_db_connections_in_use",
    "Database connections checked out of the pool",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
WAITING = Gauge(
    "tracking_db_connections_waiting",
    "Callers waiting for a free database connection (the pool is at its size and overflow)",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)


class ObservedPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio pool. `_do_get` and `_do_return_conn` are the two methods a pool
    implements: every record the first hands out, the second takes back exactly once (a
    connection that failed to open, or was invalidated, included)."""

    # SQLAlchemy names a pool's logger after its class: under ours, its INFO lines ("Pool
    # disposed") would pass for the service's own.
    _sqla_logger_namespace = "sqlalchemy.pool.impl.AsyncAdaptedQueuePool"

    def __init__(
        self, creator: Any, pool_size: int = 5, max_overflow: int = 10, **more: Any
    ) -> None:
        super().__init__(creator, pool_size=pool_size, max_overflow=max_overflow, **more)
        bounded = pool_size > 0 and max_overflow > -1
        self._capacity = pool_size + max_overflow if bounded else None

    def _do_get(self) -> ConnectionPoolEntry:
        # Without a free connection nor room for a new one, the caller waits (up to the pool
        # timeout). Nothing else runs in this event loop between the check and the wait.
        if self._capacity is None or self.checkedin() or self.checkedout() < self._capacity:
            record = super()._do_get()
        else:
            WAITING.inc()
            try:
                record = super()._do_get()
            finally:
                WAITING.dec()
        IN_USE.inc()
        return record

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        IN_USE.dec()
        super()._do_return_conn(record)
