"""Metrics over the in-memory store: the same observable behaviour as the PostgreSQL ones."""

import contextlib
import time
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime
from uuid import UUID

import msgspec

from tracking.adapters.memory.store import InMemoryStore
from tracking.application.ports import ComputedWindow, MetricsReadModel, MetricsStore, StaleWindow
from tracking.application.views import MetricCriteria, UserMetricView, WindowView
from tracking.domain.activity import user_activity
from tracking.domain.windows import Window, WindowSize


class InMemoryMetricsStore(MetricsStore):
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    @contextlib.asynccontextmanager
    async def exclusive_run(self) -> AsyncIterator[bool]:
        if self._store.run_lock.locked():
            yield False
            return
        async with self._store.run_lock:
            yield True

    async def oldest_event_at(self) -> datetime | None:
        times = (e.occurred_at for events in self._store.events.values() for e in events.values())
        return min(times, default=None)

    async def never_computed(self, size: WindowSize, starts: Sequence[datetime]) -> list[datetime]:
        logged = self._store.windows
        return sorted(
            s
            for s in starts
            if (size.hours, s) not in logged or logged[(size.hours, s)].computed_at is None
        )

    async def stale(self, size: WindowSize) -> list[StaleWindow]:
        return [
            StaleWindow(window=Window(start=start, size=size), clients=clients)
            for start, clients in sorted(_stale_clients(self._store, size.hours).items())
        ]

    async def occupied(self, size: WindowSize, starts: Sequence[datetime]) -> set[datetime]:
        wanted = set(starts)
        return {
            start
            for events in self._store.events.values()
            for event in events.values()
            if (start := size.window_of(event.occurred_at).start) in wanted
        }

    async def record_empty(self, windows: Sequence[Window], computed_at: datetime) -> list[Window]:
        # The store's write lock, as a transaction would: no insert lands half-way.
        async with self._store.lock:
            filled = []
            for window in windows:
                if await self.occupied(window.size, [window.start]):
                    filled.append(window)
                    continue
                key = (window.size.hours, window.start)
                self._store.metrics.pop(key, None)
                self._clear_marks(window, None)
                self._log(window, computed_at, users=0, events=0, duration_ms=0.0)
            return filled

    async def compute(
        self, window: Window, computed_at: datetime, clients: Collection[UUID] | None = None
    ) -> ComputedWindow:
        # The store's write lock, as a transaction would: no insert lands half-way.
        async with self._store.lock:
            started = time.perf_counter()
            key = (window.size.hours, window.start)
            only = None if clients is None else frozenset(clients)
            old = self._store.metrics.get(key, {})
            fresh = _aggregate(self._store, window, computed_at, only)
            kept = {k: row for k, row in old.items() if only is not None and k[0] not in only}
            rows = kept | _kept_unchanged(old, fresh)
            self._store.metrics[key] = rows
            self._clear_marks(window, only)
            events = sum(r.event_count for r in rows.values())
            duration_ms = (time.perf_counter() - started) * 1000
            recomputed = self._log(window, computed_at, len(rows), events, duration_ms)
        return ComputedWindow(
            window=window,
            users=len(rows),
            events=events,
            recomputed=recomputed,
            clients=None if only is None else tuple(sorted(only)),
        )

    def _clear_marks(self, window: Window, clients: frozenset[UUID] | None) -> None:
        self._store.stale -= {
            mark
            for mark in self._store.stale
            if mark.window == window and (clients is None or mark.client_id in clients)
        }

    def _log(
        self, window: Window, computed_at: datetime, users: int, events: int, duration_ms: float
    ) -> bool:
        """Logs a computation of the window; says whether it was computed before."""
        key = (window.size.hours, window.start)
        logged = self._store.windows.get(key)
        recomputed = logged is not None and logged.computed_at is not None
        self._store.windows[key] = WindowView(
            start=window.start,
            end=window.end,
            stale=False,
            computed_at=computed_at,
            kind="recomputed" if recomputed else "computed",
            users=users,
            events=events,
            duration_ms=duration_ms,
            computations=(logged.computations if logged else 0) + 1,
        )
        return recomputed


def _stale_clients(store: InMemoryStore, hours: int) -> dict[datetime, tuple[UUID, ...]]:
    """Each window's stale clients, in client order."""
    found: dict[datetime, list[UUID]] = {}
    for mark in store.stale:
        if mark.window.size.hours == hours:
            found.setdefault(mark.window.start, []).append(mark.client_id)
    return {start: tuple(sorted(clients)) for start, clients in found.items()}


def _aggregate(
    store: InMemoryStore, window: Window, computed_at: datetime, clients: frozenset[UUID] | None
) -> dict[tuple[UUID, str], UserMetricView]:
    events = (
        event
        for client_id, stored in store.events.items()
        if clients is None or client_id in clients
        for event in stored.values()
    )
    return {
        key: UserMetricView(
            user_id=key[1],
            window_start=window.start,
            window_end=window.end,
            event_count=activity.event_count,
            distinct_actions=activity.distinct_actions,
            action_counts=dict(activity.action_counts),
            first_event_at=activity.first_event_at,
            last_event_at=activity.last_event_at,
            computed_at=computed_at,
        )
        for key, activity in user_activity(window, events).items()
    }


def _kept_unchanged(
    old: dict[tuple[UUID, str], UserMetricView], new: dict[tuple[UUID, str], UserMetricView]
) -> dict[tuple[UUID, str], UserMetricView]:
    """A row whose figures did not change is kept as it was, its computed_at included."""
    return {
        key: old[key] if key in old and _figures(old[key]) == _figures(row) else row
        for key, row in new.items()
    }


def _figures(row: UserMetricView) -> tuple[object, ...]:
    return (row.event_count, row.action_counts, row.first_event_at, row.last_event_at)


class InMemoryMetricsReadModel(MetricsReadModel):
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def list_metrics(self, criteria: MetricCriteria) -> list[UserMetricView]:
        found = [
            row
            for (hours, start), rows in self._store.metrics.items()
            if hours == criteria.window_hours
            and (criteria.starts_from is None or start >= criteria.starts_from)
            and (criteria.starts_till is None or start < criteria.starts_till)
            for (client_id, user_id), row in rows.items()
            if client_id == criteria.client_id
            and (criteria.user_id is None or user_id == criteria.user_id)
            and (criteria.after is None or (start, user_id) > criteria.after)
        ]
        found.sort(key=lambda row: (row.window_start, row.user_id))
        return found[: criteria.limit]

    async def oldest_event_at(self) -> datetime | None:
        return await InMemoryMetricsStore(self._store).oldest_event_at()

    async def list_windows(
        self, size: WindowSize, starts_from: datetime, starts_till: datetime
    ) -> list[WindowView]:
        logged = {
            start: window
            for (hours, start), window in self._store.windows.items()
            if hours == size.hours and starts_from <= start < starts_till
        }
        stale = {
            start: clients
            for start, clients in _stale_clients(self._store, size.hours).items()
            if starts_from <= start < starts_till
        }
        return [
            msgspec.structs.replace(
                logged.get(start) or WindowView(start=start, end=start + size.length, stale=False),
                stale=start in stale,
                stale_clients=list(stale.get(start, ())),
            )
            for start in sorted(logged.keys() | stale.keys())
        ]
