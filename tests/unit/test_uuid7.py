"""UuidV7Generator: RFC 9562 version-7 ids that sort in the order they were made."""

import itertools
import time
import uuid
from collections.abc import Iterator

import pytest

from tracking.adapters.system import UuidV7Generator


def unix_ms(value: uuid.UUID) -> int:
    return value.int >> 80


def test_ids_are_version_7_with_the_rfc_variant() -> None:
    generated = UuidV7Generator().new_id()

    assert generated.version == 7
    assert generated.variant == uuid.RFC_4122


def test_ids_strictly_increase_over_ten_thousand_calls() -> None:
    ids = UuidV7Generator()

    generated = [ids.new_id() for _ in range(10_000)]

    assert all(a < b for a, b in itertools.pairwise(generated))
    assert all(g.version == 7 and g.variant == uuid.RFC_4122 for g in generated)


def test_the_timestamp_is_the_time_of_the_call_in_unix_milliseconds() -> None:
    ids = UuidV7Generator()

    before = time.time_ns() // 1_000_000
    generated = ids.new_id()
    after = time.time_ns() // 1_000_000

    assert before <= unix_ms(generated) <= after


def frozen_then_backwards() -> Iterator[int]:
    start = 1_760_000_000_000 * 1_000_000
    for _ in range(9_000):
        yield start
    while True:
        start -= 1_000_000
        yield start


def test_ids_keep_increasing_when_the_clock_stands_still_or_goes_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = UuidV7Generator()
    ticks = frozen_then_backwards()
    monkeypatch.setattr("tracking.adapters.system.time.time_ns", lambda: next(ticks))

    generated = [ids.new_id() for _ in range(10_000)]

    assert all(a < b for a, b in itertools.pairwise(generated))
    assert unix_ms(generated[0]) == 1_760_000_000_000
