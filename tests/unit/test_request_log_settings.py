"""The request log's settings: on, 30 days and 100000 buffered requests by default, each
bounded, and refused in one line naming the variable."""

import pytest

from tracking.settings import Settings, SettingsError, load_settings


def test_the_defaults() -> None:
    settings = load_settings({})

    assert (settings.request_log, settings.request_log_days, settings.request_log_buffer) == (
        True,
        30,
        100_000,
    )


def test_they_are_read_from_the_environment() -> None:
    settings = load_settings(
        {
            "TRACKING_REQUEST_LOG": "false",
            "TRACKING_REQUEST_LOG_DAYS": "3650",
            "TRACKING_REQUEST_LOG_BUFFER": "5000",
        }
    )

    assert settings == Settings(request_log=False, request_log_days=3650, request_log_buffer=5000)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TRACKING_REQUEST_LOG_DAYS", "0"),
        ("TRACKING_REQUEST_LOG_DAYS", "3651"),
        ("TRACKING_REQUEST_LOG_BUFFER", "0"),
        ("TRACKING_REQUEST_LOG", "maybe"),
    ],
)
def test_a_value_out_of_bounds_is_refused_by_name(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({variable: value})

    assert refused.value.variable == variable
