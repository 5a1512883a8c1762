"""Product statistics over the in-memory store, by the domain's definitions."""

import bisect
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import msgspec

from tracking.adapters.memory.store import InMemoryStore
from tracking.application.ports import StatsReadModel
from tracking.application.stats import ActionCount, DayFigures, PathCount, PeriodFigures
from tracking.domain.stats import path_of, ranked


class InMemoryStatsReadModel(StatsReadModel):
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def day(self, client_id: UUID, start: datetime, end: datetime, top: int) -> DayFigures:
        events = [
            e for e in self._store.events_of(client_id).values() if start <= e.occurred_at < end
        ]
        actions = Counter(e.action for e in events)
        paths = Counter(
            path for e in events if (path := path_of(msgspec.json.decode(e.metadata))) is not None
        )
        return DayFigures(
            total_events=len(events),
            unique_users=len({e.user_id for e in events}),
            top_actions=[ActionCount(action=a, events=n) for a, n in ranked(actions, top)],
            top_paths=[PathCount(path=p, events=n) for p, n in ranked(paths, top)],
        )

    async def series(
        self, client_id: UUID, bounds: Sequence[datetime], action: str | None
    ) -> list[PeriodFigures]:
        if len(bounds) < 2:  # noqa: PLR2004 - a period needs its start and its end
            return []
        events = [0] * (len(bounds) - 1)
        users: list[set[str]] = [set() for _ in events]
        for e in self._store.events_of(client_id).values():
            if not bounds[0] <= e.occurred_at < bounds[-1]:
                continue
            if action is not None and e.action != action:
                continue
            period = bisect.bisect_right(bounds, e.occurred_at) - 1
            events[period] += 1
            users[period].add(e.user_id)
        return [
            PeriodFigures(events=n, unique_users=len(u)) for n, u in zip(events, users, strict=True)
        ]
