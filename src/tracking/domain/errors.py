"""The one error shape: a category, a stable code, a detail, and the fields at fault.

The domain raises it when a rule is broken and the use cases when a request cannot be served.
Its category is all an entrypoint reads to decide what to do: the HTTP map turns it into a
status, the Kafka consumer's policy into "dead-letter the message" or "retry the batch"."""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar


class Category(StrEnum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    FORBIDDEN = "forbidden"
    UNAUTHENTICATED = "unauthenticated"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class TrackingError(Exception):
    category: ClassVar[Category]

    def __init__(self, code: str, detail: str, *, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.errors = tuple(errors)


class InvalidInput(TrackingError):
    category = Category.INVALID


class RuleViolation(InvalidInput):
    """A value breaks one of the domain's rules; nothing was changed."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(
            code, f"{field} {message}", errors=[FieldError(field=field, message=message)]
        )
        self.field = field
        self.message = message
