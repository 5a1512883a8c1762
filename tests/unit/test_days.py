"""A time zone's days: midnight to midnight there, 23 or 25 hours when the clocks change,
tiling a range with no gap; dates and zone names read strictly."""

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from tracking.domain.days import day_of, local_days, zone_named
from tracking.domain.errors import RuleViolation


def test_a_spring_forward_day_has_23_hours_and_both_offsets() -> None:
    before, spring, after = local_days(
        date(2025, 3, 29), date(2025, 4, 1), zone_named("Europe/Paris")
    )

    assert (before.hours, spring.hours, after.hours) == (24, 23, 24)
    assert spring.utc_offsets == ["+01:00", "+02:00"]
    assert spring.start.isoformat() == "2025-03-30T00:00:00+01:00"
    assert spring.end.isoformat() == "2025-03-31T00:00:00+02:00"
    assert before.utc_offsets == ["+01:00"]


def test_a_fall_back_day_has_25_hours() -> None:
    (day,) = local_days(date(2025, 10, 26), date(2025, 10, 27), zone_named("Europe/Paris"))

    assert day.hours == 25
    assert day.utc_offsets == ["+02:00", "+01:00"]


def test_a_skipped_midnight_starts_the_day_when_the_clocks_skip_to() -> None:
    # Chile springs forward at 00:00: 2025-09-07 starts at 01:00 local.
    saturday, sunday = local_days(
        date(2025, 9, 6), date(2025, 9, 8), zone_named("America/Santiago")
    )

    assert sunday.start.isoformat() == "2025-09-07T01:00:00-03:00"
    assert saturday.end == sunday.start
    assert (saturday.hours, sunday.hours) == (24, 23)


def test_half_hour_changes_are_kept() -> None:
    (day,) = local_days(date(2025, 4, 6), date(2025, 4, 7), zone_named("Australia/Lord_Howe"))

    assert day.hours == 24.5
    assert day.utc_offsets == ["+11:00", "+10:30"]


def test_days_tile_their_range() -> None:
    days = local_days(date(2024, 1, 1), date(2025, 1, 1), zone_named("America/New_York"))

    assert len(days) == 366
    assert all(a.end == b.start for a, b in itertools.pairwise(days))
    total = days[-1].end.astimezone(UTC) - days[0].start.astimezone(UTC)
    assert total == timedelta(days=366)
    assert sorted(d.hours for d in days)[:1] + sorted(d.hours for d in days)[-1:] == [23, 25]


def test_utc_needs_no_time_zone_database() -> None:
    (day,) = local_days(date(2025, 1, 1), date(2025, 1, 2), zone_named("UTC"))

    assert day.start == datetime(2025, 1, 1, tzinfo=UTC)
    assert day.utc_offsets == ["+00:00"]


@pytest.mark.parametrize(
    "name",
    ["", "Mars/Olympus", "America", "../etc/passwd", "a\x00b", "x" * 300, "localtime", "Factory"],
)
def test_a_name_that_is_no_zone_is_refused(name: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        zone_named(name)

    assert refused.value.code == "invalid_time_zone"


@pytest.mark.parametrize(
    "text", ["2025-02-30", "2025-1-01", "20250101", "2025-W01-1", "1969-12-31", "0001-01-01", ""]
)
def test_a_date_is_yyyy_mm_dd_within_the_calendar_we_keep(text: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        day_of(text, "from")

    assert refused.value.code == "invalid_from"
    assert day_of("2025-02-28", "from") == date(2025, 2, 28)
