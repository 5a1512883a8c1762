"""The query parameters of every listing (events, metrics, the run log), declared once."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar.params import QueryParameter

from tracking.application.pagination import DEFAULT_LIMIT, MAX_LIMIT
from tracking.domain.errors import InvalidInput, RuleViolation
from tracking.domain.instants import instant_of

__all__ = ["DEFAULT_LIMIT", "ClientId", "Cursor", "From", "Limit", "Till", "UserId", "instant"]

# Times are read as text and parsed by the domain's one reader (truncated to the microsecond),
# never by the framework's (which rounds).
From = Annotated[
    str | None,
    QueryParameter(
        name="from", description="Inclusive; RFC 3339, with an offset.", format="date-time"
    ),
]
Till = Annotated[
    str | None,
    QueryParameter(
        name="till", description="Exclusive; RFC 3339, with an offset.", format="date-time"
    ),
]
Limit = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description="Rows per page.")]
Cursor = Annotated[str | None, QueryParameter(description="`next_cursor` of the previous page.")]
ClientId = Annotated[UUID | None, QueryParameter(description="Admins only: another client's rows.")]
UserId = Annotated[str | None, QueryParameter(description="Only this user's rows.")]


def instant(value: str | None, name: str) -> datetime | None:
    """A time query parameter as the domain reads it; a bad one is `invalid_query`."""
    if value is None:
        return None
    try:
        return instant_of(value, name)
    except RuleViolation as error:
        raise InvalidInput("invalid_query", error.detail, errors=error.errors) from None
