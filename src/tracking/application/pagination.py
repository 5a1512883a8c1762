"""Keyset cursors: an opaque token for "after this (occurred_at, id)" in one order."""

import base64
import binascii
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from tracking.application.errors import FieldError, InvalidInput
from tracking.application.views import Order

_Position = tuple[str, Annotated[datetime, msgspec.Meta(tz=True)], UUID]


def encode_cursor(order: Order, occurred_at: datetime, id_: UUID) -> str:
    raw = msgspec.json.encode((order.value, occurred_at, id_))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, order: Order) -> tuple[datetime, UUID]:
    """A cursor is valid only with the order it was made for."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        order_value, occurred_at, id_ = msgspec.json.decode(raw, type=_Position)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise _invalid("is not a cursor this service issued") from None
    if order_value != order.value:
        raise _invalid(f"was issued for order={order_value}, not order={order.value}")
    return occurred_at, id_


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(
        "invalid_cursor", f"cursor {message}", errors=[FieldError(field="cursor", message=message)]
    )
