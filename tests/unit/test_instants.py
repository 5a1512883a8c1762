"""The fast reading of the canonical form (`2025-01-01T12:00:00.123456Z`) answers exactly as
the RFC 3339 reading does: the same instant, or an error."""

from datetime import UTC, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tracking.domain.errors import RuleViolation
from tracking.domain.instants import instant_of, rfc3339

TEMPLATES = ["2025-01-01T12:00:00Z", "2025-01-01T12:00:00.123Z", "2025-01-01T12:00:00.123456Z"]
# What a hostile sender may put anywhere: digits of other scripts, signs, separators, offsets.
CHARACTERS = [*"0123456789+-:.,TtZz W", "\u0663", "\uff11", "\x00"]  # Arabic 3, full-width 1


@st.composite
def near_canonical(draw: st.DrawFn) -> str:
    text = list(draw(st.sampled_from(TEMPLATES)))
    for _ in range(draw(st.integers(0, 3))):
        text[draw(st.integers(0, len(text) - 1))] = draw(st.sampled_from(CHARACTERS))
    return "".join(text)


def reading(read: object, text: str) -> datetime | str:
    try:
        value = read(text, "occurred_at")  # type: ignore[operator]
    except RuleViolation as error:
        return error.code
    assert isinstance(value, datetime)
    return value.astimezone(UTC)


@settings(max_examples=3000)
@given(near_canonical())
@example("2025-01-01T12:00:00.1234")  # no offset: never read as local time
@example("2025-02-30T12:00:00Z")
@example("2025-01-01T24:00:00Z")
@example("2025-01-01T12:00:00.1+01Z")
def test_the_fast_reading_answers_as_rfc_3339_does(text: str) -> None:
    assert reading(instant_of, text) == reading(rfc3339, text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-01T12:00:00Z", datetime(2025, 1, 1, 12, tzinfo=UTC)),
        ("2025-01-01T12:00:00.120Z", datetime(2025, 1, 1, 12, 0, 0, 120_000, tzinfo=UTC)),
        ("2025-01-01T12:00:00.000001Z", datetime(2025, 1, 1, 12, 0, 0, 1, tzinfo=UTC)),
    ],
)
def test_the_canonical_form_is_read_to_the_microsecond(text: str, expected: datetime) -> None:
    value = instant_of(text, "occurred_at")
    assert value == expected
    assert value.tzinfo is UTC
