"""The request log in memory: rows by UTC day, and usage figures computed from them by the
domain's definitions, in the order SQL gives."""

import bisect
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, date, datetime
from uuid import UUID

from tracking.adapters.memory.store import InMemoryStore
from tracking.application.ports import RequestLogStore, UsageReadModel
from tracking.application.usage import ClientUsage, LoggedRequest, RouteUsage, UsageFigures
from tracking.domain.usage import P50, P95, is_client_error, is_server_error, nearest_rank


def utc_day(at: datetime) -> date:
    return at.astimezone(UTC).date()


class InMemoryRequestLogStore(RequestLogStore):
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def prepare(self, days: Collection[date]) -> None:
        for day in days:
            self._store.request_log.setdefault(day, {})

    async def add_all(self, rows: Sequence[LoggedRequest]) -> None:
        log = self._store.request_log
        for row in rows:
            day = log.setdefault(utc_day(row.requested_at), {})
            day.setdefault((row.client_id, row.requested_at, row.id), row)

    async def drop_before(self, day: date) -> list[date]:
        dropped = sorted(d for d in self._store.request_log if d < day)
        for old in dropped:
            del self._store.request_log[old]
        return dropped


class InMemoryUsageReadModel(UsageReadModel):
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def periods(
        self, client_id: UUID | None, bounds: Sequence[datetime], top_routes: int
    ) -> list[UsageFigures]:
        periods: list[list[LoggedRequest]] = [[] for _ in bounds[1:]]
        for row in self._rows(bounds[0], bounds[-1]):
            if client_id is None or row.client_id == client_id:
                periods[bisect.bisect_right(bounds, row.requested_at) - 1].append(row)
        return [_figures(rows, top_routes) for rows in periods]

    async def top_clients(self, since: datetime, till: datetime, limit: int) -> list[ClientUsage]:
        counts = Counter(row.client_id for row in self._rows(since, till))
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
        clients = self._store.clients
        return [
            ClientUsage(
                client_id=client_id,
                name=clients[client_id].name if client_id in clients else None,
                requests=requests,
            )
            for client_id, requests in ranked
        ]

    def _rows(self, since: datetime, till: datetime) -> Iterator[LoggedRequest]:
        """Rows of `[since, till)`, looking only at the days that can hold them."""
        first, last = utc_day(since), utc_day(till)
        for day, rows in self._store.request_log.items():
            if first <= day <= last:
                yield from (row for row in rows.values() if since <= row.requested_at < till)


def _figures(rows: list[LoggedRequest], top_routes: int) -> UsageFigures:
    durations = sorted(row.duration_ms for row in rows)
    routes = Counter((row.method, row.route) for row in rows)
    busiest = sorted(routes.items(), key=lambda item: (-item[1], item[0]))[:top_routes]
    return UsageFigures(
        requests=len(rows),
        client_errors=sum(is_client_error(row.status) for row in rows),
        server_errors=sum(is_server_error(row.status) for row in rows),
        p50_ms=nearest_rank(durations, P50),
        p95_ms=nearest_rank(durations, P95),
        top_routes=[RouteUsage(method=m, route=r, requests=n) for (m, r), n in busiest],
    )
