"""Stale marks, one per client and window, set by the transaction that stores a late event."""

from collections.abc import Collection

import asyncpg

from tracking.application.ports import WindowRepository
from tracking.domain.windows import StaleMark

# DO UPDATE rather than DO NOTHING: it locks a mark that exists, so a computation clearing
# that mark waits for this transaction's events to commit (see the metrics store).
_MARK_STALE = """
INSERT INTO stale_windows (client_id, window_hours, window_start)
SELECT c, $1::int, s FROM unnest($2::uuid[], $3::timestamptz[]) AS marks(c, s)
ORDER BY c, s
ON CONFLICT (client_id, window_hours, window_start)
DO UPDATE SET window_start = EXCLUDED.window_start
"""


class PostgresWindowRepository(WindowRepository):
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def mark_stale(self, marks: Collection[StaleMark]) -> None:
        by_size: dict[int, list[StaleMark]] = {}
        for mark in marks:
            by_size.setdefault(mark.window.size.hours, []).append(mark)
        for hours, sized in sorted(by_size.items()):
            # In one order, so two transactions marking the same rows cannot deadlock.
            ordered = sorted(sized, key=lambda mark: (mark.client_id, mark.window.start))
            await self._connection.execute(
                _MARK_STALE,
                hours,
                [mark.client_id for mark in ordered],
                [mark.window.start for mark in ordered],
            )
