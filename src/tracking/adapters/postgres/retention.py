"""Retention in PostgreSQL: row deletes a batch at a time, each batch in its caller's
transaction, oldest rows first.

A batch locks only the rows it removes, found through an index (the events' `(client_id,
occurred_at, id)`, the metrics' `(window_hours, window_start)`), and skips rows another
transaction holds (`SKIP LOCKED`): an erasure in progress, or another retention run, is
never waited on, and what it holds is left for the next batch or run. Inserts never wait on
a batch: new rows are not the old rows it locks.

The events' statement names each row by its whole key and its `occurred_at`, so a table
partitioned by `occurred_at` prunes to the partitions concerned. A month whose every event
is expired goes whole instead: its partition is dropped (a moment's lock on `events`, under
the partitions' upkeep lock and its short lock timeout), and its keys are trimmed after, a
batch per transaction (`adapters/postgres/event_partitions.py`)."""

from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from tracking.adapters.postgres.event_partitions import LAYOUT
from tracking.adapters.postgres.partitions import locked, starts
from tracking.application.ports import (
    EventMonth,
    KeyTrim,
    RemovedEvents,
    RetentionRepository,
    RunLogRows,
)

_COUNT_EVENTS = "SELECT count(*) FROM events WHERE client_id = $1 AND occurred_at < $2"
_DELETE_EVENTS = """
WITH doomed AS (
    SELECT id, occurred_at FROM events
    WHERE client_id = $1 AND occurred_at < $2
    ORDER BY occurred_at, id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
), gone AS (
    DELETE FROM events AS e USING doomed AS d
    WHERE e.client_id = $1 AND e.id = d.id AND e.occurred_at = d.occurred_at
    RETURNING e.occurred_at
)
SELECT count(*) AS removed, min(occurred_at) AS first, max(occurred_at) AS last FROM gone
"""
_CLIENTS_MARKS = "FROM stale_windows WHERE client_id = $1 AND window_start < $2"
_COUNT_CLIENTS_MARKS = f"SELECT count(*) {_CLIENTS_MARKS}"
_DELETE_CLIENTS_MARKS = f"DELETE {_CLIENTS_MARKS}"

# `window_start < $1` as well: what the index on (window_hours, window_start) can serve.
_METRIC_ROWS = "FROM user_activity_metrics WHERE window_start < $1 AND window_end <= $1"
_COUNT_METRIC_ROWS = f"SELECT count(*) {_METRIC_ROWS}"
_DELETE_METRIC_ROWS = f"""
WITH doomed AS (
    SELECT client_id, window_hours, window_start, user_id {_METRIC_ROWS}
    ORDER BY window_hours, window_start
    LIMIT $2
    FOR UPDATE SKIP LOCKED
), gone AS (
    DELETE FROM user_activity_metrics AS m USING doomed AS d
    WHERE m.client_id = d.client_id AND m.window_hours = d.window_hours
      AND m.window_start = d.window_start AND m.user_id = d.user_id
    RETURNING 1
)
SELECT count(*) FROM gone
"""  # noqa: S608 - no input in it

# The keys of one dropped range whose events are gone (a key whose event is there, in a
# partition made again for the same month since, stays). Found through the keys' BRIN index
# on occurred_at; each event looked up by its whole key, so in one partition.
_TRIM_KEYS = """
WITH range AS (
    SELECT start_at, end_at FROM event_key_trims ORDER BY start_at LIMIT 1
), doomed AS (
    SELECT k.ctid FROM event_keys AS k, range AS r
    WHERE k.occurred_at >= r.start_at AND k.occurred_at < r.end_at
      AND NOT EXISTS (
          SELECT 1 FROM events AS e
          WHERE e.client_id = k.client_id AND e.occurred_at = k.occurred_at AND e.id = k.id
      )
    LIMIT $1
    FOR UPDATE OF k SKIP LOCKED
), gone AS (
    DELETE FROM event_keys WHERE ctid = ANY (ARRAY (SELECT ctid FROM doomed)) RETURNING 1
)
SELECT (SELECT start_at FROM range), (SELECT count(*) FROM gone)
"""
_COUNT_BY_CLIENT = "SELECT client_id, count(*) FROM {} GROUP BY client_id"  # a partition
_TRIMMED = "DELETE FROM event_key_trims WHERE start_at = $1"
_TRIMS_LEFT = "SELECT EXISTS (SELECT 1 FROM event_key_trims)"

# A window being computed (computed_at null) is left: its run logs it when done.
_RUN_LOG = "FROM metric_windows WHERE window_end <= $1 AND computed_at IS NOT NULL"
_WINDOWS_MARKS = (
    "FROM stale_windows WHERE window_start + make_interval(hours => window_hours::int) <= $1"
)
_COUNT_RUN_LOG = f"SELECT (SELECT count(*) {_RUN_LOG}), (SELECT count(*) {_WINDOWS_MARKS})"
_DELETE_RUN_LOG = f"""
WITH windows AS (DELETE {_RUN_LOG} RETURNING 1), marks AS (DELETE {_WINDOWS_MARKS} RETURNING 1)
SELECT (SELECT count(*) FROM windows), (SELECT count(*) FROM marks)
"""  # noqa: S608 - no input in it


class PostgresRetentionRepository(RetentionRepository):
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def count_events_before(self, client_id: UUID, cutoff: datetime) -> int:
        return int(await self._connection.fetchval(_COUNT_EVENTS, client_id, cutoff))

    async def delete_events_before(
        self, client_id: UUID, cutoff: datetime, limit: int
    ) -> RemovedEvents:
        row = await self._connection.fetchrow(_DELETE_EVENTS, client_id, cutoff, limit)
        return RemovedEvents(count=row["removed"], first=row["first"], last=row["last"])

    async def event_months(self, ending_by: datetime) -> list[EventMonth]:
        months = []
        for start in await starts(self._connection, LAYOUT):
            first = datetime(start.year, start.month, 1, tzinfo=UTC)
            following = LAYOUT.period.following(start)
            end = datetime(following.year, following.month, 1, tzinfo=UTC)
            if end > ending_by:
                break
            rows = await self._connection.fetch(_COUNT_BY_CLIENT.format(LAYOUT.name(start)))
            months.append(EventMonth(start=first, end=end, events=dict(rows)))
        return months

    async def drop_event_month(self, month: EventMonth) -> EventMonth | None:
        start = month.start.date()
        name = LAYOUT.name(start)
        try:
            await locked(self._connection)
            # Writes held (reads go on) while the month is counted again; then dropped.
            await self._connection.execute(f"LOCK TABLE {name} IN SHARE MODE")
            counts = dict(await self._connection.fetch(_COUNT_BY_CLIENT.format(name)))
            if not counts.keys() <= month.events.keys():
                return None
            await LAYOUT.drop(self._connection, start)
        except asyncpg.LockNotAvailableError:
            return None
        return EventMonth(start=month.start, end=month.end, events=counts)

    async def trim_event_keys(self, limit: int) -> KeyTrim:
        start, removed = await self._connection.fetchrow(_TRIM_KEYS, limit)
        if start is None:
            return KeyTrim(removed=0, done=True)
        if removed < limit:
            await self._connection.execute(_TRIMMED, start)
            return KeyTrim(removed=removed, done=not await self._connection.fetchval(_TRIMS_LEFT))
        return KeyTrim(removed=removed, done=False)

    async def count_stale_marks_before(self, client_id: UUID, cutoff: datetime) -> int:
        return int(await self._connection.fetchval(_COUNT_CLIENTS_MARKS, client_id, cutoff))

    async def delete_stale_marks_before(self, client_id: UUID, cutoff: datetime) -> int:
        return _deleted(await self._connection.execute(_DELETE_CLIENTS_MARKS, client_id, cutoff))

    async def count_metric_rows_ended_by(self, cutoff: datetime) -> int:
        return int(await self._connection.fetchval(_COUNT_METRIC_ROWS, cutoff))

    async def delete_metric_rows_ended_by(self, cutoff: datetime, limit: int) -> int:
        return int(await self._connection.fetchval(_DELETE_METRIC_ROWS, cutoff, limit))

    async def count_run_log_ended_by(self, cutoff: datetime) -> RunLogRows:
        windows, marks = await self._connection.fetchrow(_COUNT_RUN_LOG, cutoff)
        return RunLogRows(windows=windows, stale_marks=marks)

    async def delete_run_log_ended_by(self, cutoff: datetime) -> RunLogRows:
        windows, marks = await self._connection.fetchrow(_DELETE_RUN_LOG, cutoff)
        return RunLogRows(windows=windows, stale_marks=marks)


def _deleted(status: str) -> int:
    """The row count of a `DELETE n` command status."""
    return int(status.rpartition(" ")[2])
