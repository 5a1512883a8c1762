"""The periods of a time zone's clock, hours or days, as the instants they start.

A day runs from its first instant to the next day's (`domain/days.py`: 23 or 25 hours when
the clocks change). An hour starts whenever the clock shows a whole hour, and whenever the
clock is set (a daylight saving change): so the local hour that repeats when the clocks go
back is two periods, the same wall time with two offsets (01:00-04:00, then 01:00-05:00 in
New York), the hour that is skipped when they go forward is none, and no period is longer
than an hour. (A zone that changes by half an hour, as Lord Howe Island does, gets one
half-hour period at the change.) Periods tile the timeline: no gap, no overlap."""

import math
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum

from tracking.domain.days import first_instant

_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)


class Interval(StrEnum):
    HOUR = "hour"
    DAY = "day"


def period_starts(
    interval: Interval, zone: tzinfo, since: datetime, till: datetime, limit: int
) -> list[datetime]:
    """The starts of the zone's periods that fall in `[since, till)`, oldest first, in UTC;
    at most `limit + 1`, enough to tell that there are more than `limit`."""
    if interval is Interval.HOUR:
        return _hour_starts(zone, since, till, limit)
    return _day_starts(zone, since, till, limit)


def period_end(interval: Interval, zone: tzinfo, start: datetime) -> datetime:
    """The end of the period that starts at `start` (one of `period_starts`), in UTC."""
    if interval is Interval.HOUR:
        return _next_hour(zone, start)
    day = start.astimezone(zone).date()
    end = _start_of(day + _DAY, zone)
    while end <= start:  # a date the clock skipped whole (Samoa's 2011-12-30) has no period
        day += _DAY
        end = _start_of(day + _DAY, zone)
    return end


def written(at: datetime, zone: tzinfo) -> datetime:
    """An instant as an answer writes it: with the zone's offset then. RFC 3339 offsets are
    whole minutes, so an instant of a zone whose offset had seconds (Monrovia, -00:44:30,
    until 1972) is written in UTC rather than shifted."""
    local = at.astimezone(zone)
    offset = local.utcoffset() or timedelta()
    return local if offset % timedelta(minutes=1) == timedelta() else at.astimezone(UTC)


def _day_starts(zone: tzinfo, since: datetime, till: datetime, limit: int) -> list[datetime]:
    starts: list[datetime] = []
    day = since.astimezone(zone).date() - _DAY  # a day may start before its date's midnight
    while len(starts) <= limit:
        start = _start_of(day, zone)
        if start >= till:
            break
        if start >= since and (not starts or start > starts[-1]):
            starts.append(start)
        day += _DAY
    return starts


def _start_of(day: date, zone: tzinfo) -> datetime:
    return first_instant(day, zone).astimezone(UTC)


def _hour_starts(zone: tzinfo, since: datetime, till: datetime, limit: int) -> list[datetime]:
    start = _hour_start(zone, since)
    if start < since:
        start = _next_hour(zone, start)
    starts: list[datetime] = []
    while start < till and len(starts) <= limit:
        starts.append(start)
        start = _next_hour(zone, start)
    return starts


def _hour_start(zone: tzinfo, at: datetime) -> datetime:
    """The start of the hour `at` is in: the latest whole hour of the clock, or the clock's
    change since, whichever is later."""
    at = at.astimezone(UTC)
    offset = _offset(zone, at)
    wall = at + offset
    candidate = wall.replace(minute=0, second=0, microsecond=0) - offset
    return _change_in(zone, candidate, at) or candidate


def _next_hour(zone: tzinfo, after: datetime) -> datetime:
    """The first start of an hour after `after`: the clock's next whole hour, or its change
    before that."""
    after = after.astimezone(UTC)
    offset = _offset(zone, after)
    wall = after + offset
    candidate = wall.replace(minute=0, second=0, microsecond=0) + _HOUR - offset
    return _change_in(zone, after, candidate) or candidate


def _offset(zone: tzinfo, at: datetime) -> timedelta:
    return at.astimezone(zone).utcoffset() or timedelta()


def _change_in(zone: tzinfo, after: datetime, until: datetime) -> datetime | None:
    """The instant in `(after, until]` at which the zone's offset changed, or None. Spans are
    an hour at most, and no zone changes twice within one: so the offset at `until` tells
    whether it changed, and a search to the second (changes fall on whole seconds) finds
    when."""
    before = _offset(zone, after)
    if _offset(zone, until) == before:
        return None
    low, high = math.floor(after.timestamp()), math.ceil(until.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(zone, datetime.fromtimestamp(middle, UTC)) == before:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)
