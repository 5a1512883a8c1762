"""Metric windows: half-open, aligned to UTC midnight, due once closed for the grace period."""

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracking.domain.errors import RuleViolation
from tracking.domain.windows import StaleMark, Window, WindowSize, due_windows, late_windows

FOUR = WindowSize(4)
DAY = datetime(2025, 10, 23, tzinfo=UTC)
GRACE = timedelta(seconds=60)
DIVISORS = [1, 2, 3, 4, 6, 8, 12, 24]


def at(hours: int, minutes: int = 0, seconds: int = 0, micros: int = 0) -> datetime:
    return DAY + timedelta(hours=hours, minutes=minutes, seconds=seconds, microseconds=micros)


@pytest.mark.parametrize("hours", [5, 7, 0, -4, 48])
def test_a_size_that_does_not_divide_a_day_is_refused(hours: int) -> None:
    with pytest.raises(RuleViolation) as refused:
        WindowSize(hours)

    assert refused.value.code == "invalid_window_size"
    assert refused.value.field == "window_hours"


@pytest.mark.parametrize("hours", DIVISORS)
def test_every_divisor_of_24_is_a_size(hours: int) -> None:
    assert WindowSize(hours).length == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("instant", "start"),
    [
        (at(3, 59, 59, 999_999), at(0)),
        (at(4), at(4)),
        (at(7, 59, 59, 999_999), at(4)),
        (at(0), at(0)),
        (at(23, 59, 59, 999_999), at(20)),
    ],
    ids=["last-instant-of-00", "boundary-04", "last-instant-of-04", "midnight", "end-of-day"],
)
def test_an_instant_belongs_to_the_window_it_falls_in_a_boundary_to_the_later_one(
    instant: datetime, start: datetime
) -> None:
    window = FOUR.window_of(instant)

    assert window.start == start
    assert window.end == start + timedelta(hours=4)


def test_a_time_with_an_offset_is_placed_by_its_utc_instant() -> None:
    eastern = timezone(timedelta(hours=-5))
    # 23:30 at -05:00 is 04:30 UTC the next day.
    instant = datetime(2025, 10, 22, 23, 30, tzinfo=eastern)

    window = FOUR.window_of(instant)

    assert window.start == at(4)
    assert window.start.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("instant", "start"),
    [
        (datetime(1999, 12, 31, 23, 0, tzinfo=UTC), datetime(1999, 12, 31, 20, 0, tzinfo=UTC)),
        (datetime(1970, 1, 1, 3, 59, tzinfo=UTC), datetime(1970, 1, 1, 0, 0, tzinfo=UTC)),
        (datetime(1999, 12, 31, 20, 0, tzinfo=UTC), datetime(1999, 12, 31, 20, 0, tzinfo=UTC)),
    ],
)
def test_times_before_2000_are_aligned_to_their_own_midnight(
    instant: datetime, start: datetime
) -> None:
    assert FOUR.window_of(instant).start == start


def test_a_window_is_due_only_once_its_end_plus_grace_has_passed() -> None:
    window = FOUR.window_of(at(1))

    assert not window.is_due(at(3, 59, 59), GRACE)
    assert not window.is_due(at(4), GRACE)
    assert not window.is_due(at(4, 0, 59, 999_999), GRACE)
    assert window.is_due(at(4, 1), GRACE)
    assert window.is_due(at(4), timedelta(0))


def test_due_windows_are_listed_oldest_first_up_to_the_last_due_one() -> None:
    first = FOUR.window_of(at(1))

    assert [w.start for w in due_windows(first, at(12, 1), GRACE)] == [at(0), at(4), at(8)]
    assert [w.start for w in due_windows(first, at(12, 0, 59), GRACE)] == [at(0), at(4)]
    assert due_windows(first, at(4), GRACE) == []


def test_the_next_window_starts_where_this_one_ends() -> None:
    window = Window(start=at(20), size=FOUR)

    assert window.next() == Window(start=at(24), size=FOUR)


offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
instants = st.datetimes(
    min_value=datetime(1900, 1, 2),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2200, 1, 1),  # noqa: DTZ001
    timezones=offsets,
)


@given(instant=instants, hours=st.sampled_from(DIVISORS))
def test_every_instant_lies_in_its_window_and_the_window_is_aligned_to_midnight(
    instant: datetime, hours: int
) -> None:
    window = WindowSize(hours).window_of(instant)

    assert window.start <= instant < window.end
    utc_start = window.start.astimezone(UTC)
    midnight = utc_start.replace(hour=0, minute=0, second=0, microsecond=0)
    assert (utc_start - midnight) % timedelta(hours=hours) == timedelta(0)
    assert window.end - window.start == timedelta(hours=hours)


# Late events


ACME, GLOBEX = UUID(int=1), UUID(int=2)


def test_an_event_of_a_window_closed_before_the_commit_is_late() -> None:
    assert late_windows(FOUR, [(ACME, at(3, 59, 59, 999_999))], now=at(4)) == {
        StaleMark(ACME, FOUR.window_of(at(0)))
    }


def test_an_event_of_the_open_window_is_never_late() -> None:
    assert late_windows(FOUR, [(ACME, at(4)), (ACME, at(7, 59))], now=at(7, 59, 59)) == set()


def test_late_events_name_each_clients_closed_window_once() -> None:
    events = [(ACME, at(1)), (ACME, at(2)), (GLOBEX, at(2)), (ACME, at(5)), (ACME, at(13))]

    assert late_windows(FOUR, events, now=at(12, 30)) == {
        StaleMark(ACME, FOUR.window_of(at(0))),
        StaleMark(GLOBEX, FOUR.window_of(at(0))),
        StaleMark(ACME, FOUR.window_of(at(4))),
    }


@given(instants, instants)
def test_an_event_is_late_exactly_when_its_window_ended_by_the_commit(
    occurred: datetime, now: datetime
) -> None:
    window = FOUR.window_of(occurred)

    late = late_windows(FOUR, [(ACME, occurred)], now)

    assert (late == {StaleMark(ACME, window)}) == window.is_closed(now)
