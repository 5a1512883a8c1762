"""Read models: what queries return, decoded straight from storage, never entities."""

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

import msgspec

from tracking.domain.clients import Client, Role
from tracking.domain.events import Event


class Order(StrEnum):
    NEWEST_FIRST = "desc"
    OLDEST_FIRST = "asc"


class EventView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    user_id: str
    action: str
    occurred_at: datetime
    received_at: datetime
    metadata: dict[str, Any]


def event_view(event: Event) -> EventView:
    return EventView(
        id=event.id,
        user_id=event.user_id,
        action=event.action,
        occurred_at=event.occurred_at,
        received_at=event.received_at,
        metadata=msgspec.json.decode(event.metadata),
    )


class EventCriteria(msgspec.Struct, frozen=True, kw_only=True):
    """One tenant's events, filtered, in `(occurred_at, id)` order, starting after `after`."""

    client_id: UUID
    user_id: str | None = None
    action: str | None = None
    occurred_from: datetime | None = None
    occurred_till: datetime | None = None
    order: Order = Order.NEWEST_FIRST
    after: tuple[datetime, UUID] | None = None
    limit: int = 100


class ClientView(msgspec.Struct, frozen=True, kw_only=True):
    """A client as anyone may see it: never its key, nor the key's hash."""

    id: UUID
    name: str
    role: Role
    rate_limit_per_minute: int
    events_per_minute: int
    active: bool
    created_at: datetime
    api_key_prefix: str
    retention_days: int | None
    """Days its events are kept, by when they occurred; null: for ever."""


def client_view(client: Client) -> ClientView:
    return ClientView(
        id=client.id,
        name=client.name,
        role=client.role,
        rate_limit_per_minute=client.rate_limit_per_minute,
        events_per_minute=client.events_per_minute,
        active=client.active,
        created_at=client.created_at,
        api_key_prefix=client.api_key_prefix,
        retention_days=client.retention_days,
    )


class UserMetricView(msgspec.Struct, frozen=True, kw_only=True):
    """One user's activity in one window."""

    user_id: str
    window_start: datetime
    window_end: datetime
    event_count: int
    distinct_actions: int
    action_counts: dict[str, int]
    first_event_at: datetime
    last_event_at: datetime
    computed_at: datetime


class MetricCriteria(msgspec.Struct, frozen=True, kw_only=True):
    """One tenant's metrics of windows starting in `[starts_from, starts_till)`, in
    `(window_start, user_id)` order, after `after`."""

    client_id: UUID
    window_hours: int
    user_id: str | None = None
    starts_from: datetime | None = None
    starts_till: datetime | None = None
    after: tuple[datetime, str] | None = None
    limit: int = 100


class WindowView(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A window in the run log: computed (and when, how big), or waiting to be."""

    start: datetime
    end: datetime
    stale: bool
    """Some client's rows of it wait to be recomputed: `stale_clients` says whose."""
    stale_clients: list[UUID] = msgspec.field(default_factory=list)
    computed_at: datetime | None = None
    kind: str | None = None
    users: int | None = None
    events: int | None = None
    duration_ms: float | None = None
    computations: int = 0
