"""ListEvents: one tenant's events, filtered, newest or oldest first, a page at a time."""

from datetime import datetime
from uuid import UUID

import msgspec

from tracking.application.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    check_listing,
    decode_cursor,
    encode_cursor,
    page_of,
    tenant_of,
)
from tracking.application.ports import EventReadModel
from tracking.application.principal import Principal
from tracking.application.views import EventCriteria, EventView, Order


class ListEvents(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal
    client_id: UUID | None = None
    user_id: str | None = None
    action: str | None = None
    occurred_from: datetime | None = None
    occurred_till: datetime | None = None
    order: Order = Order.NEWEST_FIRST
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


class EventPage(msgspec.Struct, frozen=True, kw_only=True):
    events: list[EventView]
    next_cursor: str | None


class ListEventsHandler:
    """`from` is inclusive and `till` exclusive, on `occurred_at`. A client sees only its own
    events; an admin sees its own, or another client's by passing `client_id`. `next_cursor` is
    null on the last page."""

    def __init__(self, events: EventReadModel) -> None:
        self._events = events

    async def __call__(self, query: ListEvents) -> EventPage:
        client_id = tenant_of(query.actor, query.client_id, "events")
        check_listing(
            query.limit,
            MAX_LIMIT,
            query.occurred_from,
            query.occurred_till,
            user_id=query.user_id,
            action=query.action,
        )
        after = None if query.cursor is None else decode_cursor(query.cursor, query.order)
        criteria = EventCriteria(
            client_id=client_id,
            user_id=query.user_id,
            action=query.action,
            occurred_from=query.occurred_from,
            occurred_till=query.occurred_till,
            order=query.order,
            after=after,
            limit=query.limit + 1,
        )
        events, cursor = page_of(
            await self._events.list_events(criteria),
            query.limit,
            lambda last: encode_cursor(query.order, last.occurred_at, last.id),
        )
        return EventPage(events=events, next_cursor=cursor)
