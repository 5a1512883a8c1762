"""Keyset cursors: an opaque token for "after this (time, key)" in one order of one listing."""

import base64
import binascii
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, TypeVar
from uuid import UUID

import msgspec

from tracking.application.errors import Forbidden
from tracking.application.principal import Principal
from tracking.application.views import Order
from tracking.domain.errors import FieldError, InvalidInput

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
"""Rows per page of every listing: at most, and when the caller does not say."""

_Position = tuple[str, Annotated[datetime, msgspec.Meta(tz=True)], str]


def encode_position(tag: str, at: datetime, key: str) -> str:
    raw = msgspec.json.encode((tag, at, key))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_position(cursor: str, tag: str) -> tuple[datetime, str]:
    """A cursor is valid only for the listing (and order) it was made for: its `tag`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, at, key = msgspec.json.decode(raw, type=_Position)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise _invalid("is not a cursor this service issued") from None
    if made_for != tag:
        raise _invalid(f"was issued for {made_for}, not {tag}")
    if "\x00" in key or not in_calendar(at):
        raise _invalid("is not a cursor this service issued")
    return at, key


def encode_cursor(order: Order, occurred_at: datetime, id_: UUID) -> str:
    return encode_position(f"order={order.value}", occurred_at, str(id_))


def decode_cursor(cursor: str, order: Order) -> tuple[datetime, UUID]:
    occurred_at, key = decode_position(cursor, f"order={order.value}")
    try:
        return occurred_at, UUID(key)
    except ValueError:
        raise _invalid("is not a cursor this service issued") from None


def check_listing(
    limit: int,
    max_limit: int,
    since: datetime | None,
    till: datetime | None,
    **texts: str | None,
) -> None:
    """A page size in range, a time range `[from, till)` with offsets, in order and within
    the calendar, and filter texts that storage can hold (no NUL character)."""
    errors = []
    if not 1 <= limit <= max_limit:
        errors.append(FieldError(field="limit", message=f"must be between 1 and {max_limit}"))
    for field, value in (("from", since), ("till", till)):
        if value is not None and value.tzinfo is None:
            errors.append(FieldError(field=field, message="must carry a UTC offset"))
        elif value is not None and not in_calendar(value):
            errors.append(FieldError(field=field, message="must fall within years 1 to 9999"))
    for field, text in texts.items():
        if text is not None and "\x00" in text:
            errors.append(FieldError(field=field, message="must not contain the NUL character"))
    if not errors and since is not None and till is not None and since >= till:
        errors.append(FieldError(field="till", message="must be later than from"))
    if errors:
        detail = "; ".join(f"{error.field} {error.message}" for error in errors)
        raise InvalidInput("invalid_query", detail, errors=errors)


def in_calendar(value: datetime) -> bool:
    """Whether a time, in UTC, stays within the years 1 to 9999 (and a window's width of
    them), as Python and PostgreSQL both need."""
    try:
        (value.astimezone(UTC) + timedelta(days=1)).astimezone(UTC)
        (value.astimezone(UTC) - timedelta(days=1)).astimezone(UTC)
    except OverflowError:
        return False
    return True


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(
        "invalid_cursor", f"cursor {message}", errors=[FieldError(field="cursor", message=message)]
    )


def tenant_of(actor: Principal, client_id: UUID | None, what: str) -> UUID:
    """Whose rows a listing reads: the caller's own or, for an admin, the client it names."""
    chosen = client_id or actor.client_id
    if not actor.may_act_for(chosen):
        raise Forbidden("forbidden_client", f"a client may list only its own {what}")
    return chosen


Row = TypeVar("Row")


def page_of(
    rows: list[Row], limit: int, cursor_after: Callable[[Row], str]
) -> tuple[list[Row], str | None]:
    """The page of at most `limit` rows from `limit + 1` read: the extra one only tells that
    another page follows, which starts after the last row shown."""
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], cursor_after(rows[limit - 1])
