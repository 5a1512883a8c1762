"""The events' monthly partitions (UTC months of `occurred_at`), made by the application:
at start and every hour, this month's and the next `months_ahead` months', and those of the
months that have events in `events_default` (an import of history, a late event): an event
of a month without a partition lands there, so an insert never fails, and its month's rows
move into their partition when that is made.

Dropping a month puts its range on record in `event_key_trims`, in the same transaction; its
events' keys (`event_keys`, which keeps `(client_id, id)` unique across partitions) are
trimmed after, in batches (retention's `trim_event_keys`), so the drop holds `events` for a
moment whatever the month's size. Until they are trimmed, the same key sent again is still a
duplicate."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, date

from sqlalchemy.ext.asyncio import AsyncEngine

from tracking.adapters.postgres.database import driver_connection
from tracking.adapters.postgres.partitions import MONTH, Layout, PartitionMaintainer, month_of
from tracking.application.ports import Clock

log = logging.getLogger(__name__)

UPKEEP_SECONDS = 3600.0

LAYOUT = Layout(
    parent="events",
    column="occurred_at",
    period=MONTH,
    default="events_default",
    before_drop=(
        "INSERT INTO event_key_trims (start_at, end_at) VALUES ({start}, {end}) "
        "ON CONFLICT (start_at) DO NOTHING"
    ),
)
# The months that have rows in the default partition (infinity, which an older version
# stored, has no month and stays there).
_DEFAULT_MONTHS = """
SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date FROM events_default
WHERE isfinite(occurred_at)
"""


def months_from(first: date, count: int) -> list[date]:
    months = [month_of(first)]
    for _ in range(count):
        months.append(MONTH.following(months[-1]))
    return months


class PostgresEventPartitions:
    def __init__(self, engine: AsyncEngine, clock: Clock, *, months_ahead: int) -> None:
        self.maintainer = PartitionMaintainer(engine, LAYOUT)
        self._engine = engine
        self._clock = clock
        self._months_ahead = months_ahead

    async def upkeep(self) -> list[date]:
        """This month's partition and the next months' made, and those of the months with
        rows in the default partition; the months it made."""
        today = self._clock.now().astimezone(UTC).date()
        async with driver_connection(self._engine) as connection:
            held = [row[0] for row in await connection.fetch(_DEFAULT_MONTHS)]
        made = await self.maintainer.prepare({*months_from(today, self._months_ahead), *held})
        if made:
            log.info("events: made the partitions of %s", ", ".join(f"{m:%Y-%m}" for m in made))
        return made

    async def drop_before(self, month: date) -> list[date]:
        """Drops the months before `month` whole, their ranges put on record for their
        events' keys to be trimmed after (retention's `trim_event_keys`)."""
        return await self.maintainer.drop_before(month_of(month))


async def running_event_partitions(
    partitions: PostgresEventPartitions | None, interval: float = UPKEEP_SECONDS
) -> AsyncIterator[PostgresEventPartitions | None]:
    """The upkeep done once (awaited, so a start makes its months before it serves), then
    every `interval` seconds until closed. A failure (a lock not granted in time) is logged
    and tried again at the next round: meanwhile, the default partition takes the rows."""
    if partitions is None:  # memory storage
        yield None
        return
    await _upkeep(partitions)
    task = asyncio.create_task(_every(partitions, interval), name="event-partitions")
    try:
        yield partitions
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _every(partitions: PostgresEventPartitions, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        await _upkeep(partitions)


async def _upkeep(partitions: PostgresEventPartitions) -> None:
    try:
        await partitions.upkeep()
    except Exception:
        log.exception("events: making the coming months' partitions failed; trying again later")
