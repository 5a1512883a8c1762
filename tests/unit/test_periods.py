"""A zone's hours and days as periods: each start with its offset, tiling the timeline, the
repeated hour twice and the skipped one never, half-hour changes and skipped dates kept."""

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from tracking.domain.periods import Interval, period_end, period_starts, written

HOUR = timedelta(hours=1)
ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Paris",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Chatham",
    "Pacific/Apia",
]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def labels(interval: Interval, zone: str, since: datetime, till: datetime) -> list[str]:
    tz = ZoneInfo(zone)
    return [written(s, tz).isoformat() for s in period_starts(interval, tz, since, till, 1000)]


def test_the_hour_the_clocks_go_back_is_two_points_with_their_offsets() -> None:
    assert labels(Interval.HOUR, "America/New_York", utc(2025, 11, 2, 4), utc(2025, 11, 2, 8)) == [
        "2025-11-02T00:00:00-04:00",
        "2025-11-02T01:00:00-04:00",
        "2025-11-02T01:00:00-05:00",
        "2025-11-02T02:00:00-05:00",
    ]


def test_the_hour_the_clocks_skip_is_no_point() -> None:
    assert labels(Interval.HOUR, "America/New_York", utc(2025, 3, 9, 5), utc(2025, 3, 9, 8)) == [
        "2025-03-09T00:00:00-05:00",
        "2025-03-09T01:00:00-05:00",
        "2025-03-09T03:00:00-04:00",
    ]


def test_a_day_of_each_change_has_23_and_25_hours_of_points() -> None:
    zone = ZoneInfo("Europe/Paris")
    spring = period_starts(Interval.HOUR, zone, utc(2025, 3, 29, 23), utc(2025, 3, 30, 22), 1000)
    autumn = period_starts(Interval.HOUR, zone, utc(2025, 10, 25, 22), utc(2025, 10, 26, 23), 1000)

    assert (len(spring), len(autumn)) == (23, 25)


def test_a_half_hour_change_makes_one_half_hour_period() -> None:
    assert labels(
        Interval.HOUR, "Australia/Lord_Howe", utc(2025, 4, 5, 14), utc(2025, 4, 5, 16)
    ) == [
        "2025-04-06T01:00:00+11:00",
        "2025-04-06T01:30:00+10:30",
        "2025-04-06T02:00:00+10:30",
    ]


def test_hours_of_a_zone_a_half_hour_off_start_at_half_past_in_utc() -> None:
    zone = ZoneInfo("Asia/Kolkata")
    starts = period_starts(Interval.HOUR, zone, utc(2025, 1, 1, 0, 10), utc(2025, 1, 1, 3), 1000)

    assert starts == [utc(2025, 1, 1, 0, 30), utc(2025, 1, 1, 1, 30), utc(2025, 1, 1, 2, 30)]


def test_a_skipped_midnight_starts_the_day_when_the_clocks_skip_to() -> None:
    assert labels(Interval.DAY, "America/Santiago", utc(2025, 9, 6, 4), utc(2025, 9, 8, 3)) == [
        "2025-09-06T00:00:00-04:00",
        "2025-09-07T01:00:00-03:00",
    ]


def test_a_date_the_zone_skipped_whole_is_no_point() -> None:
    # Samoa crossed the date line: 2011-12-30 never happened there.
    assert labels(Interval.DAY, "Pacific/Apia", utc(2011, 12, 29, 10), utc(2011, 12, 31, 10)) == [
        "2011-12-29T00:00:00-10:00",
        "2011-12-31T00:00:00+14:00",
    ]


def test_an_offset_with_seconds_is_written_in_utc_not_shifted() -> None:
    zone = ZoneInfo("Africa/Monrovia")  # -00:44:30 until 1972
    (start,) = period_starts(Interval.HOUR, zone, utc(1971, 6, 1), utc(1971, 6, 1, 1), 1000)

    assert written(start, zone).isoformat() == "1971-06-01T00:44:30+00:00"


def test_at_most_one_more_than_the_limit_is_made() -> None:
    starts = period_starts(Interval.HOUR, UTC, utc(2025, 1, 1), utc(2030, 1, 1), 10)

    assert len(starts) == 11


@settings(max_examples=300, deadline=None)
@given(
    interval=st.sampled_from(Interval),
    zone=st.sampled_from(ZONES),
    since=st.datetimes(
        min_value=datetime(1971, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
        max_value=datetime(2030, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    span=st.integers(min_value=1, max_value=80),
)
def test_periods_tile_the_timeline_and_start_on_the_clock(
    interval: Interval, zone: str, since: datetime, span: int
) -> None:
    tz = ZoneInfo(zone)
    till = since + span * (HOUR if interval is Interval.HOUR else 24 * HOUR)
    starts = period_starts(interval, tz, since, till, 1000)

    assert starts, "a span of a whole period or more holds a start"
    assert all(since <= s < till for s in starts)
    assert all(a < b for a, b in itertools.pairwise(starts))
    for start, following in itertools.pairwise(starts):
        assert period_end(interval, tz, start) == following
    longest = HOUR if interval is Interval.HOUR else 26 * HOUR
    ends = [period_end(interval, tz, s) for s in starts]
    assert all(end - start <= longest for start, end in zip(starts, ends, strict=True))
    for start in starts:
        local, before = start.astimezone(tz), (start - timedelta(seconds=1)).astimezone(tz)
        clock_set = local.utcoffset() != before.utcoffset()
        if interval is Interval.HOUR:
            assert (local.minute, local.second) == (0, 0) or clock_set, local
        else:
            assert local.date() != before.date() or clock_set, local
