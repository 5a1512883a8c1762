"""The stats' rules: an event's path, how top lists rank, and when an answer is settled or
an event late."""

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from tracking.domain.stats import is_settled, late_before, late_days, path_of, ranked

NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("metadata", "path"),
    [
        ({"path": "/a", "page": "/b"}, "/a"),
        ({"page": "/b"}, "/b"),
        ({"path": 7, "page": "/b"}, "/b"),
        ({"path": None, "page": "/b"}, "/b"),
        ({"path": {"x": "/a"}, "page": ["/b"]}, None),
        ({"path": ""}, ""),
        ({"other": "/a"}, None),
        ({}, None),
        (["/a"], None),
    ],
)
def test_a_path_is_a_string_path_else_a_string_page(metadata: object, path: str | None) -> None:
    assert path_of(metadata) == path


def test_top_lists_rank_by_events_then_name_in_code_point_order() -> None:
    counts = {"b": 2, "a": 2, "Z": 2, "é": 2, "c": 5, "d": 1}

    assert ranked(counts, 4) == [("c", 5), ("Z", 2), ("a", 2), ("b", 2)]
    assert ranked(counts)[-1] == ("d", 1)


def test_a_period_is_settled_once_the_utc_hour_it_ended_in_is_over() -> None:
    assert is_settled(datetime(2026, 3, 2, 10, tzinfo=UTC), NOW)
    assert not is_settled(datetime(2026, 3, 2, 10, 15, tzinfo=UTC), NOW)
    just_after = datetime(2026, 3, 2, 11, 0, 2, tzinfo=UTC)
    assert not is_settled(datetime(2026, 3, 2, 11, tzinfo=UTC), just_after)
    assert is_settled(datetime(2026, 3, 2, 11, tzinfo=UTC), just_after + timedelta(seconds=5))


def test_events_before_the_current_utc_hour_are_late_and_name_their_utc_day() -> None:
    a, b = uuid4(), uuid4()
    occurred = [
        (a, NOW - timedelta(minutes=20)),  # this hour: live
        (a, NOW - timedelta(minutes=40)),
        (b, datetime(2025, 12, 31, 23, 59, tzinfo=UTC)),
        (b, datetime(2025, 12, 31, 1, tzinfo=UTC)),
    ]

    assert late_before(NOW) == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert late_days(occurred, NOW) == {(a, date(2026, 3, 2)), (b, date(2025, 12, 31))}
    assert late_days(occurred[:1], NOW) == set()
