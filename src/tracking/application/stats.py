"""Product statistics: the figures the read models compute, the answers the queries give,
and how a question's zone, days and instants are read."""

import re
from datetime import UTC, date, datetime, tzinfo
from typing import Annotated

import msgspec

from tracking.domain.days import day_of, first_instant, zone_named
from tracking.domain.errors import RuleViolation
from tracking.domain.instants import instant_of
from tracking.domain.periods import Interval

_DATE = re.compile(r"\d{4}-\d\d-\d\d", re.ASCII)


class ActionCount(msgspec.Struct, frozen=True, kw_only=True):
    action: str
    events: int


class PathCount(msgspec.Struct, frozen=True, kw_only=True):
    path: str
    events: int


class DayFigures(msgspec.Struct, frozen=True, kw_only=True):
    """One tenant's events of one period: how many, by how many distinct users, and the
    top actions and paths (`domain/stats.py`)."""

    total_events: int = 0
    unique_users: int = 0
    top_actions: list[ActionCount] = msgspec.field(default_factory=list)
    top_paths: list[PathCount] = msgspec.field(default_factory=list)


class PeriodFigures(msgspec.Struct, frozen=True, kw_only=True):
    events: int = 0
    unique_users: int = 0


class DailyStatsView(msgspec.Struct, frozen=True, kw_only=True):
    date: date
    time_zone: str
    start: Annotated[datetime, msgspec.Meta(description="The day's first instant, its offset.")]
    end: Annotated[datetime, msgspec.Meta(description="The next day's first instant.")]
    hours: Annotated[float, msgspec.Meta(description="23 or 25 when the clocks change.")]
    total_events: int
    unique_users: Annotated[int, msgspec.Meta(description="Distinct users, counted exactly.")]
    top_actions: Annotated[
        list[ActionCount], msgspec.Meta(description="The 10 busiest; ties by name.")
    ]
    top_paths: Annotated[
        list[PathCount],
        msgspec.Meta(
            description="`metadata.path`, else `metadata.page`, when a string; the 10 busiest, "
            "ties by name."
        ),
    ]


class SeriesPoint(msgspec.Struct, frozen=True, kw_only=True):
    start: Annotated[
        datetime,
        msgspec.Meta(description="With the zone's offset: a repeated local hour shows twice."),
    ]
    events: int
    unique_users: int


class StatsSeriesView(msgspec.Struct, frozen=True, kw_only=True):
    time_zone: str
    interval: Interval
    action: Annotated[str | None, msgspec.Meta(description="Only this action's events.")]
    points: list[SeriesPoint]


EARLIEST_ASKED = datetime(1969, 12, 30, tzinfo=UTC)
LATEST_ASKED = datetime(9999, 1, 1, tzinfo=UTC)
LATEST_DAY = date(9998, 12, 31)
"""What a question may name: events are from 1970 on, and every zone's day up to the year
9998 and its neighbours stay within what Python and PostgreSQL can hold."""


def time_zone_of(name: str) -> tzinfo:
    """The IANA time zone named, or `invalid_time_zone`."""
    return zone_named(name)


def day_asked(text: str, field: str) -> date:
    day = day_of(text, field)
    if day > LATEST_DAY:
        raise RuleViolation(f"invalid_{field}", field, f"must be {LATEST_DAY} or earlier")
    return day


def moment_asked(text: str, field: str, zone: tzinfo) -> datetime:
    """An RFC 3339 instant, or a date `YYYY-MM-DD`: that day's first instant in `zone`."""
    if _DATE.fullmatch(text):
        return first_instant(day_asked(text, field), zone).astimezone(UTC)
    at = instant_of(text, field)
    if not EARLIEST_ASKED <= at < LATEST_ASKED:
        raise RuleViolation(f"invalid_{field}", field, "must fall within the years 1970 to 9998")
    return at
