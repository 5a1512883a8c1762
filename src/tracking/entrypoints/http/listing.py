"""The query parameters of every listing (events, metrics, the run log), declared once."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar.params import QueryParameter

from tracking.application.pagination import DEFAULT_LIMIT, MAX_LIMIT

__all__ = ["DEFAULT_LIMIT", "ClientId", "Cursor", "From", "Limit", "Till", "UserId"]


From = Annotated[
    datetime | None, QueryParameter(name="from", description="Inclusive; RFC 3339, with an offset.")
]
Till = Annotated[
    datetime | None, QueryParameter(name="till", description="Exclusive; RFC 3339, with an offset.")
]
Limit = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description="Rows per page.")]
Cursor = Annotated[str | None, QueryParameter(description="`next_cursor` of the previous page.")]
ClientId = Annotated[UUID | None, QueryParameter(description="Admins only: another client's rows.")]
UserId = Annotated[str | None, QueryParameter(description="Only this user's rows.")]
