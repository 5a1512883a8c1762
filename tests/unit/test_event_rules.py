"""The rules every stored event obeys, whatever transport brought it."""

from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.fakes import T0
from tracking.domain.errors import RuleViolation
from tracking.domain.events import Event, action_of, metadata_of, occurred_at_of, user_id_of

PRINTABLE = st.characters(exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))
LIMIT = 16 * 1024


def metadata_of_size(size: int, filler: str = "a") -> str:
    """A compact JSON object of exactly `size` bytes, its string made of `filler`."""
    head, tail = '{"k":"', '"}'
    room = size - len(head) - len(tail)
    width = len(filler.encode())
    text = filler * (room // width) + "a" * (room % width)
    encoded = head + text + tail
    assert len(encoded.encode()) == size
    return encoded


@given(st.text(PRINTABLE, min_size=1, max_size=128).filter(str.isprintable))
def test_a_printable_user_id_of_1_to_128_characters_is_kept_as_sent(user_id: str) -> None:
    assert user_id_of(user_id) == user_id


@given(st.integers(min_value=-(10**30), max_value=10**30))
def test_an_integer_user_id_is_stored_as_its_decimal_string(user_id: int) -> None:
    assert user_id_of(user_id) == str(user_id)


@pytest.mark.parametrize("user_id", [True, False])
def test_a_boolean_user_id_is_refused(user_id: bool) -> None:
    with pytest.raises(RuleViolation) as refused:
        user_id_of(user_id)
    assert (refused.value.code, refused.value.field) == ("invalid_user_id", "user_id")


@pytest.mark.parametrize("user_id", ["", "u" * 129, "a\nb", "tab\there", "nul\x00", "\u2028"])
def test_an_empty_too_long_or_unprintable_user_id_is_refused(user_id: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        user_id_of(user_id)
    assert (refused.value.code, refused.value.field) == ("invalid_user_id", "user_id")


def test_a_user_id_of_exactly_128_characters_is_accepted() -> None:
    assert user_id_of("é" * 128) == "é" * 128


@given(st.from_regex(r"[A-Za-z0-9_.:\-]{1,64}", fullmatch=True))
def test_an_action_of_the_allowed_characters_is_kept(action: str) -> None:
    assert action_of(action) == action


@pytest.mark.parametrize(
    "action", ["", "a" * 65, "page view", "a/b", "café", "click\n", "x,y", "a+b"]
)
def test_an_action_outside_the_charset_or_length_is_refused(action: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        action_of(action)
    assert (refused.value.code, refused.value.field) == ("invalid_action", "action")


@pytest.mark.parametrize("filler", ["a", "é", "€", "😀"])
def test_metadata_of_exactly_16_kib_is_accepted(filler: str) -> None:
    encoded = metadata_of_size(LIMIT, filler)
    assert metadata_of(encoded) == encoded


@pytest.mark.parametrize("filler", ["a", "é", "€", "😀"])
def test_metadata_one_byte_over_16_kib_is_refused_counting_bytes_not_characters(
    filler: str,
) -> None:
    with pytest.raises(RuleViolation) as refused:
        metadata_of(metadata_of_size(LIMIT + 1, filler))
    assert (refused.value.code, refused.value.field) == ("metadata_too_large", "metadata")


@pytest.mark.parametrize("encoded", ["[]", '"text"', "1", "null", ""])
def test_metadata_that_is_not_an_object_is_refused(encoded: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        metadata_of(encoded)
    assert (refused.value.code, refused.value.field) == ("invalid_metadata", "metadata")


@pytest.mark.parametrize(
    "encoded",
    [
        r'{"a":"\u0000"}',
        r'{"\u0000":1}',
        r'{"a":"x\u0000y"}',
        r'{"a":"\\\u0000"}',  # an escaped backslash, then a NUL
        r'{"a":"\\","b":"\u0000"}',
    ],
)
def test_metadata_containing_a_nul_character_is_refused(encoded: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        metadata_of(encoded)
    assert (refused.value.code, refused.value.field) == ("invalid_metadata", "metadata")


@pytest.mark.parametrize(
    "encoded",
    [
        r'{"a":"\\u0000"}',  # a backslash followed by the text u0000
        r'{"a":"\\\\u0000"}',
        r'{"a":"\"\\u0000"}',
        r'{"a":"\u0001"}',
    ],
)
def test_metadata_with_text_that_only_looks_like_a_nul_escape_is_accepted(encoded: str) -> None:
    assert metadata_of(encoded) == encoded


def test_occurred_at_defaults_to_the_receipt_time() -> None:
    assert occurred_at_of(None, T0, None) == T0


def test_occurred_at_without_an_offset_is_refused() -> None:
    with pytest.raises(RuleViolation) as refused:
        occurred_at_of(datetime(2025, 10, 23, 11, 0), T0, None)  # noqa: DTZ001 - the point of the test
    assert (refused.value.code, refused.value.field) == ("invalid_occurred_at", "occurred_at")


def test_occurred_at_exactly_five_minutes_ahead_is_accepted() -> None:
    assert occurred_at_of(T0 + timedelta(minutes=5), T0, None) == T0 + timedelta(minutes=5)


def test_occurred_at_more_than_five_minutes_ahead_is_refused() -> None:
    with pytest.raises(RuleViolation) as refused:
        occurred_at_of(T0 + timedelta(minutes=5, microseconds=1), T0, None)
    assert (refused.value.code, refused.value.field) == ("occurred_at_in_future", "occurred_at")


def test_the_five_minute_limit_compares_instants_not_wall_times() -> None:
    ahead_in_tokyo = (T0 + timedelta(minutes=6)).astimezone(timezone(timedelta(hours=9)))
    behind_in_new_york = (T0 - timedelta(hours=1)).astimezone(timezone(timedelta(hours=-5)))

    with pytest.raises(RuleViolation):
        occurred_at_of(ahead_in_tokyo, T0, None)
    assert occurred_at_of(behind_in_new_york, T0, None) == T0 - timedelta(hours=1)


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 2),  # noqa: DTZ001 - hypothesis wants naive bounds
        max_value=datetime(2025, 10, 23, 12, 5),  # noqa: DTZ001
        timezones=st.integers(min_value=-23 * 60, max_value=23 * 60).map(
            lambda minutes: timezone(timedelta(minutes=minutes))
        ),
    )
)
def test_occurred_at_is_kept_as_the_same_instant_in_utc(value: datetime) -> None:
    assume(value - T0 <= timedelta(minutes=5))
    normalized = occurred_at_of(value, T0, None)

    assert normalized == value
    assert normalized.tzinfo is UTC


def test_an_event_recorded_from_valid_values_carries_them_normalized() -> None:
    event_id, client_id = uuid4(), uuid4()
    occurred = datetime(2025, 10, 23, 13, 30, tzinfo=timezone(timedelta(hours=2)))

    event = Event.record(
        id=event_id,
        client_id=client_id,
        user_id=42,
        action="page.view",
        occurred_at=occurred,
        received_at=T0,
        metadata='{"page":"/home"}',
        max_age=None,
    )

    assert event == Event(
        id=event_id,
        client_id=client_id,
        user_id="42",
        action="page.view",
        occurred_at=datetime(2025, 10, 23, 11, 30, tzinfo=UTC),
        received_at=T0,
        metadata='{"page":"/home"}',
    )
