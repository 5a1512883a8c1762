"""How many months of event partitions are made ahead: 2 by default, 1-120, refused in one
line naming the variable."""

from datetime import date

import pytest

from tracking.adapters.postgres.event_partitions import months_from
from tracking.adapters.postgres.partitions import MONTH
from tracking.settings import SettingsError, load_settings


def test_the_default_and_the_environment() -> None:
    assert load_settings({}).event_partition_months_ahead == 2
    variable = {"TRACKING_EVENT_PARTITION_MONTHS_AHEAD": "12"}
    assert load_settings(variable).event_partition_months_ahead == 12


@pytest.mark.parametrize("value", ["0", "121", "two"])
def test_a_value_out_of_bounds_is_refused_by_name(value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"TRACKING_EVENT_PARTITION_MONTHS_AHEAD": value})

    assert refused.value.variable == "TRACKING_EVENT_PARTITION_MONTHS_AHEAD"


def test_the_months_made_are_this_one_and_the_next_across_a_year() -> None:
    assert months_from(date(2026, 11, 30), 2) == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
    ]
    assert MONTH.start_of("999912") == date(9999, 12, 1)
