"""Keyset cursors: an opaque token for "after this (time, key)" in one order of one listing."""

import base64
import binascii
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from tracking.application.errors import FieldError, InvalidInput
from tracking.application.views import Order

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
    return at, key


def encode_cursor(order: Order, occurred_at: datetime, id_: UUID) -> str:
    return encode_position(f"order={order.value}", occurred_at, str(id_))


def decode_cursor(cursor: str, order: Order) -> tuple[datetime, UUID]:
    occurred_at, key = decode_position(cursor, f"order={order.value}")
    try:
        return occurred_at, UUID(key)
    except ValueError:
        raise _invalid("is not a cursor this service issued") from None


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(
        "invalid_cursor", f"cursor {message}", errors=[FieldError(field="cursor", message=message)]
    )
