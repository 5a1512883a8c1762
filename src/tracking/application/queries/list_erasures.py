"""ListErasures: the erasure log, newest first, a page at a time (admin only)."""

from uuid import UUID

import msgspec

from tracking.application.errors import Forbidden
from tracking.application.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    check_listing,
    decode_position,
    encode_position,
    page_of,
)
from tracking.application.ports import ErasureLogReadModel
from tracking.application.principal import Principal
from tracking.application.privacy import ErasureView
from tracking.domain.errors import InvalidInput

_CURSOR = "erasures"


class ListErasures(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal
    client_id: UUID | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


class ErasurePage(msgspec.Struct, frozen=True, kw_only=True):
    erasures: list[ErasureView]
    next_cursor: str | None


class ListErasuresHandler:
    """Every client's erasures, or `client_id`'s: who asked, when, the counts, and the user
    only as the keyed hash. Newest first; `next_cursor` is null on the last page."""

    def __init__(self, log: ErasureLogReadModel) -> None:
        self._log = log

    async def __call__(self, query: ListErasures) -> ErasurePage:
        if not query.actor.is_admin:
            raise Forbidden("admin_required", "only an admin may read the erasure log")
        check_listing(query.limit, MAX_LIMIT, None, None)
        after = None
        if query.cursor is not None:
            at, key = decode_position(query.cursor, _CURSOR)
            try:
                after = (at, UUID(key))
            except ValueError:
                raise InvalidInput(
                    "invalid_cursor", "cursor is not a cursor this service issued"
                ) from None
        rows = await self._log.list_erasures(query.client_id, after, query.limit + 1)
        erasures, cursor = page_of(
            rows, query.limit, lambda last: encode_position(_CURSOR, last.erased_at, str(last.id))
        )
        return ErasurePage(erasures=erasures, next_cursor=cursor)
