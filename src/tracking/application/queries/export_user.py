"""ExportUser: every event and metric row of one user, as NDJSON, in constant memory."""

from collections.abc import AsyncIterator, Sequence
from uuid import UUID

import msgspec

from tracking.application.ports import UserDataReadModel, UserKey
from tracking.application.principal import Principal
from tracking.application.privacy import EXPORT_PAGE, user_of

_ENCODE = msgspec.json.Encoder().encode_into


class ExportUser(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal
    user_id: str
    client_id: UUID | None = None


class ExportUserHandler:
    """A client exports its own users; an admin, any client's. One JSON object per line, with
    `type`: the events (`event`) by `(occurred_at, id)`, then the metric rows (`metric`) by
    `(window_hours, window_start)`. Read a keyset page at a time, each page its own query: the
    export holds one page in memory whatever the user's size, and no transaction open while a
    slow reader takes it (so what is written meanwhile may or may not be in it)."""

    def __init__(self, data: UserDataReadModel, page: int = EXPORT_PAGE) -> None:
        self._data = data
        self._page = page

    async def __call__(self, query: ExportUser) -> AsyncIterator[bytes]:
        """Checks who may ask at once; the lines come as the iterator is read, a page each."""
        user = user_of(query.actor, query.client_id, query.user_id, "export")
        return self._lines(user)

    async def _lines(self, user: UserKey) -> AsyncIterator[bytes]:
        buffer = bytearray()
        after_event = None
        while True:
            events = await self._data.events_of(user, after_event, self._page)
            if events:
                yield _ndjson(buffer, events)
                after_event = (events[-1].occurred_at, events[-1].id)
            if len(events) < self._page:
                break
        after_metric = None
        while True:
            metrics = await self._data.metrics_of(user, after_metric, self._page)
            if metrics:
                yield _ndjson(buffer, metrics)
                after_metric = (metrics[-1].window_hours, metrics[-1].window_start)
            if len(metrics) < self._page:
                break


def _ndjson(buffer: bytearray, items: Sequence[msgspec.Struct]) -> bytes:
    buffer.clear()
    for item in items:
        _ENCODE(item, buffer, len(buffer))
        buffer.extend(b"\n")
    return bytes(buffer)
