"""Errors a use case answers with: a category the entrypoints map to a status, and a stable code."""

from collections.abc import Sequence
from enum import StrEnum
from typing import ClassVar

import msgspec

from tracking.domain.errors import RuleViolation


class Category(StrEnum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    FORBIDDEN = "forbidden"
    UNAUTHENTICATED = "unauthenticated"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"


class FieldError(msgspec.Struct, frozen=True, kw_only=True):
    field: str
    message: str


class ApplicationError(Exception):
    category: ClassVar[Category]

    def __init__(self, code: str, detail: str, *, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.errors = tuple(errors)


class InvalidInput(ApplicationError):
    category = Category.INVALID

    @classmethod
    def from_violation(cls, violation: RuleViolation) -> "InvalidInput":
        return cls(
            violation.code,
            str(violation),
            errors=[FieldError(field=violation.field, message=violation.message)],
        )


class NotFound(ApplicationError):
    category = Category.NOT_FOUND


class Conflict(ApplicationError):
    category = Category.CONFLICT


class Forbidden(ApplicationError):
    category = Category.FORBIDDEN


class Unauthenticated(ApplicationError):
    category = Category.UNAUTHENTICATED


class Unavailable(ApplicationError):
    """A dependency is down; the caller may retry after `retry_after` seconds."""

    category = Category.UNAVAILABLE

    def __init__(self, code: str, detail: str, *, retry_after: int = 1) -> None:
        super().__init__(code, detail)
        self.retry_after = retry_after
