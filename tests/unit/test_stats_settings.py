"""The stats' settings: the open answers' lifetime, and how long settled answers are kept
where a late event elsewhere could not reach the cache."""

import pytest

from tracking.bootstrap.container import (
    SETTLED_ANSWER_SECONDS,
    _answer_guard_seconds,
    _settled_answer_seconds,
)
from tracking.settings import SettingsError, load_settings


def test_open_answers_are_kept_15_seconds_unless_set() -> None:
    assert load_settings({}).analytics_open_ttl_seconds == 15
    given = {"TRACKING_ANALYTICS_OPEN_TTL_SECONDS": "0"}
    assert load_settings(given).analytics_open_ttl_seconds == 0


@pytest.mark.parametrize("value", ["-1", "3601", "soon"])
def test_an_open_lifetime_out_of_range_is_refused_naming_it(value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"TRACKING_ANALYTICS_OPEN_TTL_SECONDS": value})

    assert refused.value.variable == "TRACKING_ANALYTICS_OPEN_TTL_SECONDS"


def test_settled_answers_are_kept_long_only_where_every_writer_reaches_the_cache() -> None:
    alone = load_settings({"TRACKING_STORAGE": "memory"})
    shared_database = load_settings({"TRACKING_DATABASE_URL": "postgresql://db/tracking"})

    assert _settled_answer_seconds(None, alone) == SETTLED_ANSWER_SECONDS
    assert _settled_answer_seconds(None, shared_database) == 15


def test_a_late_events_mark_outlives_the_longest_statement() -> None:
    assert _answer_guard_seconds(load_settings({})) == 60
    slow = {"TRACKING_DB_STATEMENT_TIMEOUT_MS": "120000"}
    assert _answer_guard_seconds(load_settings(slow)) == 240
    assert _answer_guard_seconds(load_settings({"TRACKING_DB_STATEMENT_TIMEOUT_MS": "0"})) == 3600
