"""Calendar days of a time zone: what "per day" means when the caller names a zone. A day is
the half-open `[its first instant, the next day's first instant)`, so it lasts 23 or 25 hours
when the clocks change that day, and the days of a range tile it with no gap or overlap."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from tracking.domain.errors import RuleViolation

EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(9999, 12, 31)
"""A day asked for lies within these (`till` may be the latest): then every zone's midnight
of it is an instant Python and PostgreSQL can both hold."""

_MICROSECOND = timedelta(microseconds=1)
_DATE = re.compile(r"\d{4}-\d\d-\d\d", re.ASCII)


@dataclass(frozen=True, slots=True)
class LocalDay:
    day: date
    start: datetime
    """Its first instant, with the zone's offset at that instant."""
    end: datetime
    """The next day's first instant, with the zone's offset then."""

    @property
    def hours(self) -> float:
        # In UTC: between two times of one zone, Python subtracts the wall clocks.
        return (self.end.astimezone(UTC) - self.start.astimezone(UTC)) / timedelta(hours=1)

    @property
    def utc_offsets(self) -> list[str]:
        """The zone's offsets at the day's start and at its last instant: two when the
        clocks changed that day."""
        last = (self.end.astimezone(UTC) - _MICROSECOND).astimezone(self.start.tzinfo)
        offsets = [_offset(self.start), _offset(last)]
        return offsets[:1] if offsets[0] == offsets[1] else offsets


def _offset(at: datetime) -> str:
    """`+02:00`, `-03:30`, as RFC 3339 writes an offset (seconds, which some zones had
    before 1970, are not asked for)."""
    minutes = round((at.utcoffset() or timedelta()) / timedelta(minutes=1))
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_named(name: str) -> tzinfo:
    """An IANA time zone (`Europe/Paris`), or `RuleViolation` (`invalid_time_zone`). UTC
    needs no time zone database. Only names of the IANA database: not the files beside its
    zones (`localtime` would tell the server's own zone, `posixrules`, `Factory`)."""
    if name == "UTC":
        return UTC
    if name not in _iana_names():
        raise RuleViolation(
            "invalid_time_zone",
            "tz",
            f"must be an IANA time zone such as Europe/Paris, not {name!r}",
        )
    return ZoneInfo(name)


@cache
def _iana_names() -> frozenset[str]:
    return frozenset(available_timezones()) - {"localtime", "posixrules", "Factory"}


def day_of(text: str, field: str) -> date:
    """A date written `YYYY-MM-DD`, from 1970-01-01 to 9999-12-31, or `RuleViolation`
    (`invalid_<field>`)."""
    try:
        day = date.fromisoformat(text) if _DATE.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        raise RuleViolation(f"invalid_{field}", field, f"must be a date YYYY-MM-DD, not {text!r}")
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise RuleViolation(
            f"invalid_{field}", field, f"must be from {EARLIEST_DAY} to {LATEST_DAY}"
        )
    return day


def first_instant(day: date, zone: tzinfo) -> datetime:
    """The day's first instant in the zone, as the zone writes it. A midnight the clocks
    skip (a zone that springs forward at 00:00) is the moment they skip to."""
    midnight = datetime.combine(day, time(0), zone)
    return midnight.astimezone(UTC).astimezone(zone)


def local_days(first: date, till: date, zone: tzinfo) -> list[LocalDay]:
    """The days from `first` to `till`, `till` excluded."""
    starts = [first_instant(first + timedelta(days=n), zone) for n in range((till - first).days)]
    ends = [*starts[1:], first_instant(till, zone)] if starts else []
    return [
        LocalDay(day=first + timedelta(days=n), start=start, end=end)
        for n, (start, end) in enumerate(zip(starts, ends, strict=True))
    ]


def today_in(now: datetime, zone: tzinfo) -> date:
    return now.astimezone(zone).date()
