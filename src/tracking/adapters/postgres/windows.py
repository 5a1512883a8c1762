"""The run log's stale marks, set by the transaction that stores a late event."""

from collections.abc import Collection
from datetime import datetime

import asyncpg

from tracking.application.ports import WindowRepository
from tracking.domain.windows import Window

_MARK_STALE = """
INSERT INTO metric_windows (window_hours, window_start, window_end, stale, computations)
SELECT $1::int, starts.s, starts.s + make_interval(hours => $1::int), true, 0
FROM unnest($2::timestamptz[]) AS starts(s)
ON CONFLICT (window_hours, window_start) DO UPDATE SET stale = true
"""


class PostgresWindowRepository(WindowRepository):
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def mark_stale(self, windows: Collection[Window]) -> None:
        by_size: dict[int, list[datetime]] = {}
        for window in windows:
            by_size.setdefault(window.size.hours, []).append(window.start)
        for hours, starts in sorted(by_size.items()):
            # In one order, so two transactions marking the same windows cannot deadlock.
            await self._connection.execute(_MARK_STALE, hours, sorted(starts))
