"""Range partitions made ahead by the application, one per period (a UTC day, a UTC month),
and dropped whole: the one maintainer of the request log's days and the events' months.

Every change runs under one advisory lock (two processes making one partition at once would
collide in the catalog) and a short lock timeout: DDL on a partition locks the parent, so it
would rather fail (and be tried again later) than queue every write behind a long query."""

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from tracking.adapters.postgres.database import driver_connection

UPKEEP_LOCK = 7_311_805_926_002  # pg advisory lock key: "one partition upkeep at a time"
LOCK_TIMEOUT = "2s"


@dataclass(frozen=True)
class Period:
    """How a partition's range is named and where the next one starts."""

    digits: int
    format: str
    following: Callable[[date], date]

    def start_of(self, name_digits: str) -> date:
        year, month = int(name_digits[:4]), int(name_digits[4:6])
        return date(year, month, int(name_digits[6:8] or 1))  # a month's name has no day


def _next_month(start: date) -> date:
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


DAY = Period(8, "%Y%m%d", lambda start: start + timedelta(days=1))
MONTH = Period(6, "%Y%m", _next_month)


def month_of(day: date) -> date:
    return day.replace(day=1)


@dataclass(frozen=True)
class Layout:
    """A partitioned table's partitions: `<parent>_p<digits>`, and its default partition (if
    any), whose rows of a period are moved into that period's partition as it is made."""

    parent: str
    column: str
    period: Period
    default: str | None = None
    before_drop: str | None = None
    """A statement run before a partition is dropped, in the same transaction; `{start}` and
    `{end}` are its range's bounds (the events' keys are put on record to be trimmed)."""

    def name(self, start: date) -> str:
        return f"{self.parent}_p{start.strftime(self.period.format)}"

    def bounds(self, start: date) -> str:
        # Literals of our own making (dates): DDL takes no parameters.
        end = self.period.following(start)
        return f"FROM ('{start.isoformat()} 00:00:00+00') TO ('{end.isoformat()} 00:00:00+00')"

    async def drop(self, connection: asyncpg.Connection, start: date) -> None:
        """Drops the period's partition in the caller's transaction, which holds the upkeep
        lock (`locked`)."""
        if self.before_drop is not None:
            end = self.period.following(start)
            await connection.execute(
                self.before_drop.format(
                    start=f"'{start.isoformat()} 00:00:00+00'",
                    end=f"'{end.isoformat()} 00:00:00+00'",
                )
            )
        await connection.execute(f"DROP TABLE IF EXISTS {self.name(start)}")

    def start_of(self, name: str) -> date | None:
        """The start of the period a partition of ours holds; None for another table."""
        found = re.fullmatch(rf"{self.parent}_p(\d{{{self.period.digits}}})", name, re.ASCII)
        return None if found is None else self.period.start_of(found.group(1))


class PartitionMaintainer:
    def __init__(self, engine: AsyncEngine, layout: Layout) -> None:
        self._engine = engine
        self._layout = layout

    async def prepare(self, starts: Collection[date]) -> list[date]:
        """Makes the partitions of these periods that do not exist yet; the ones it made."""
        layout = self._layout
        made = []
        async with driver_connection(self._engine) as connection, connection.transaction():
            await locked(connection)
            for start in sorted(starts):
                name = layout.name(start)
                if await connection.fetchval("SELECT to_regclass($1)", name) is not None:
                    continue
                # Made apart, then attached: attaching locks the parent only against other
                # DDL, where CREATE TABLE ... PARTITION OF would stop its reads and writes.
                await connection.execute(f"CREATE TABLE {name} (LIKE {layout.parent})")
                if layout.default is not None:
                    await self._adopt(connection, name, start)
                await connection.execute(
                    f"ALTER TABLE {layout.parent} ATTACH PARTITION {name} "
                    f"FOR VALUES {layout.bounds(start)}"
                )
                made.append(start)
        return made

    async def _adopt(self, connection: asyncpg.Connection, name: str, start: date) -> None:
        """PostgreSQL refuses to attach a range whose rows sit in the default partition:
        they are moved into the new partition first, in the attaching transaction (so no
        reader sees them twice or not at all), writes to the default held meanwhile."""
        default, end = self._layout.default, self._layout.period.following(start)
        column = self._layout.column
        within = f"{column} >= '{start.isoformat()}Z' AND {column} < '{end.isoformat()}Z'"
        found = f"SELECT EXISTS (SELECT 1 FROM {default} WHERE {within})"  # noqa: S608
        if not await connection.fetchval(found):
            return
        await connection.execute(f"LOCK TABLE {default} IN SHARE ROW EXCLUSIVE MODE")
        await connection.execute(
            f"WITH moved AS (DELETE FROM {default} WHERE {within} RETURNING *) "  # noqa: S608
            f"INSERT INTO {name} SELECT * FROM moved"
        )

    async def drop_before(self, start: date) -> list[date]:
        """Drops the partitions of the periods before `start`; the ones it dropped."""
        layout = self._layout
        async with driver_connection(self._engine) as connection, connection.transaction():
            await locked(connection)
            old = [s for s in await starts(connection, layout) if s < start]
            for past in old:
                await layout.drop(connection, past)
        return old

    async def partitions(self) -> list[date]:
        async with driver_connection(self._engine) as connection:
            return await starts(connection, self._layout)


async def starts(connection: asyncpg.Connection, layout: Layout) -> list[date]:
    """The starts of the layout's partitions that exist, in order."""
    names = await connection.fetch(
        "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = $1::regclass",
        layout.parent,
    )
    return sorted(s for s in (layout.start_of(row[0]) for row in names) if s is not None)


async def locked(connection: asyncpg.Connection) -> None:
    """The upkeep lock, for the rest of the caller's transaction, whose DDL then gives up
    after `LOCK_TIMEOUT` rather than queue every write behind a long query."""
    await connection.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    await connection.execute("SELECT pg_advisory_xact_lock($1)", UPKEEP_LOCK)
