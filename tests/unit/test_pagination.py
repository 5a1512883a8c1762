"""Keyset cursors: opaque, URL-safe, and valid only with the order they were made for."""

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracking.application.pagination import decode_cursor, encode_cursor
from tracking.application.views import Order
from tracking.domain.errors import InvalidInput

instants = st.datetimes(
    min_value=datetime(1970, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=datetime(2200, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(st.sampled_from(Order), instants, st.uuids())
def test_a_cursor_gives_back_the_position_it_was_made_from(
    order: Order, occurred_at: datetime, id_: UUID
) -> None:
    cursor = encode_cursor(order, occurred_at, id_)

    assert decode_cursor(cursor, order) == (occurred_at, id_)


@given(st.sampled_from(Order), instants, st.uuids())
def test_a_cursor_is_safe_in_a_url_query_without_escaping(
    order: Order, occurred_at: datetime, id_: UUID
) -> None:
    cursor = encode_cursor(order, occurred_at, id_)

    assert cursor.isascii()
    assert not set(cursor) & set("+/=&?# ")


def test_a_cursor_keeps_the_instant_whatever_the_offset() -> None:
    local = datetime(2025, 10, 23, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    id_ = UUID(int=1)

    occurred_at, _ = decode_cursor(
        encode_cursor(Order.OLDEST_FIRST, local, id_), Order.OLDEST_FIRST
    )

    assert occurred_at == datetime(2025, 10, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("made_for", "used_with"),
    [(Order.NEWEST_FIRST, Order.OLDEST_FIRST), (Order.OLDEST_FIRST, Order.NEWEST_FIRST)],
)
def test_a_cursor_is_refused_with_the_other_order(made_for: Order, used_with: Order) -> None:
    cursor = encode_cursor(made_for, datetime(2025, 1, 1, tzinfo=UTC), UUID(int=1))

    with pytest.raises(InvalidInput) as refused:
        decode_cursor(cursor, used_with)

    assert refused.value.code == "invalid_cursor"
    assert [error.field for error in refused.value.errors] == ["cursor"]
