"""Retention over the in-memory store: what a batch removes is staged, and applied on commit,
as the unit of work applies what it adds."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from tracking.adapters.memory.store import InMemoryStore
from tracking.application.ports import (
    EventMonth,
    KeyTrim,
    RemovedEvents,
    RetentionRepository,
    RunLogRows,
)
from tracking.domain.events import Event
from tracking.domain.windows import StaleMark

MetricKey = tuple[tuple[int, datetime], tuple[UUID, str]]
"""A metric row: its window `(hours, start)`, then `(client_id, user_id)`."""


@dataclass
class RemovedRows:
    """What this transaction removes, once it commits."""

    events: set[tuple[UUID, UUID]] = field(default_factory=set)
    metrics: set[MetricKey] = field(default_factory=set)
    windows: set[tuple[int, datetime]] = field(default_factory=set)
    marks: set[StaleMark] = field(default_factory=set)

    def apply(self, store: InMemoryStore) -> None:
        for client_id, event_id in self.events:
            store.events.get(client_id, {}).pop(event_id, None)
        for window, row in self.metrics:
            rows = store.metrics.get(window)
            if rows is not None:
                rows.pop(row, None)
                if not rows:
                    del store.metrics[window]
        for window in self.windows:
            store.windows.pop(window, None)
        store.stale.difference_update(self.marks)

    def clear(self) -> None:
        for rows in (self.events, self.metrics, self.windows, self.marks):
            rows.clear()


class InMemoryRetentionRepository(RetentionRepository):
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self.pending = RemovedRows()

    async def count_events_before(self, client_id: UUID, cutoff: datetime) -> int:
        return len(self._events_before(client_id, cutoff))

    async def delete_events_before(
        self, client_id: UUID, cutoff: datetime, limit: int
    ) -> RemovedEvents:
        events = self._store.events_of(client_id)
        doomed = sorted(self._events_before(client_id, cutoff), key=lambda k: _occurred(events, k))
        doomed = doomed[:limit]
        self.pending.events.update(doomed)
        if not doomed:
            return RemovedEvents(count=0)
        first, last = events[doomed[0][1]], events[doomed[-1][1]]
        return RemovedEvents(count=len(doomed), first=first.occurred_at, last=last.occurred_at)

    async def event_months(self, ending_by: datetime) -> list[EventMonth]:
        """Every UTC month with events (the memory keeps each apart, as PostgreSQL's
        partitions would), so retention decides the same on both storages."""
        months: dict[datetime, dict[UUID, int]] = {}
        for client_id, events in self._store.events.items():
            for event_id, event in events.items():
                start = _month_of(event.occurred_at)
                if (client_id, event_id) not in self.pending.events:
                    counts = months.setdefault(start, {})
                    counts[client_id] = counts.get(client_id, 0) + 1
        return [
            EventMonth(start=start, end=end, events=counts)
            for start, counts in sorted(months.items())
            if (end := _following(start)) <= ending_by
        ]

    async def drop_event_month(self, month: EventMonth) -> EventMonth | None:
        now = next((m for m in await self.event_months(month.end) if m.start == month.start), None)
        if now is None or not now.events.keys() <= month.events.keys():
            return None
        self.pending.events.update(
            (client_id, event.id)
            for client_id in now.events
            for event in self._store.events_of(client_id).values()
            if month.start <= event.occurred_at < month.end
        )
        return now

    async def trim_event_keys(self, limit: int) -> KeyTrim:  # noqa: ARG002 - none to trim
        return KeyTrim(removed=0, done=True)  # the memory's keys are its events'

    async def count_stale_marks_before(self, client_id: UUID, cutoff: datetime) -> int:
        return len(self._marks_of(client_id, cutoff))

    async def delete_stale_marks_before(self, client_id: UUID, cutoff: datetime) -> int:
        marks = self._marks_of(client_id, cutoff)
        self.pending.marks.update(marks)
        return len(marks)

    async def count_metric_rows_ended_by(self, cutoff: datetime) -> int:
        return len(self._metric_rows(cutoff))

    async def delete_metric_rows_ended_by(self, cutoff: datetime, limit: int) -> int:
        doomed = sorted(self._metric_rows(cutoff))[:limit]
        self.pending.metrics.update(doomed)
        return len(doomed)

    async def count_run_log_ended_by(self, cutoff: datetime) -> RunLogRows:
        windows, marks = self._run_log(cutoff)
        return RunLogRows(windows=len(windows), stale_marks=len(marks))

    async def delete_run_log_ended_by(self, cutoff: datetime) -> RunLogRows:
        windows, marks = self._run_log(cutoff)
        self.pending.windows.update(windows)
        self.pending.marks.update(marks)
        return RunLogRows(windows=len(windows), stale_marks=len(marks))

    def _events_before(self, client_id: UUID, cutoff: datetime) -> list[tuple[UUID, UUID]]:
        return [
            (client_id, event.id)
            for event in self._store.events_of(client_id).values()
            if event.occurred_at < cutoff and (client_id, event.id) not in self.pending.events
        ]

    def _marks_of(self, client_id: UUID, cutoff: datetime) -> set[StaleMark]:
        return {
            mark
            for mark in self._store.stale - self.pending.marks
            if mark.client_id == client_id and mark.window.start < cutoff
        }

    def _metric_rows(self, cutoff: datetime) -> list[MetricKey]:
        return [
            (window, row)
            for window, rows in self._store.metrics.items()
            for row, metric in rows.items()
            if metric.window_end <= cutoff and (window, row) not in self.pending.metrics
        ]

    def _run_log(self, cutoff: datetime) -> tuple[set[tuple[int, datetime]], set[StaleMark]]:
        windows = {
            key
            for key, window in self._store.windows.items()
            if window.end <= cutoff
            and window.computed_at is not None
            and key not in self.pending.windows
        }
        marks = {
            mark for mark in self._store.stale - self.pending.marks if mark.window.end <= cutoff
        }
        return windows, marks


def _month_of(at: datetime) -> datetime:
    utc = at.astimezone(UTC)
    return datetime(utc.year, utc.month, 1, tzinfo=UTC)


def _following(month: datetime) -> datetime:
    return datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)


def _occurred(events: dict[UUID, Event], key: tuple[UUID, UUID]) -> tuple[datetime, UUID]:
    return events[key[1]].occurred_at, key[1]
