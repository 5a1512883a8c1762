"""What privacy's use cases write and read: an erasure as the log keeps it, and a user's data as
an export gives it, one typed line per event or metric row."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from tracking.application.errors import Forbidden
from tracking.application.principal import Principal
from tracking.domain.events import user_id_of
from tracking.domain.windows import Window

ERASE_BATCH = 10_000
"""Events deleted per transaction by an erasure: each batch commits on its own, so a user with
millions of events never holds a long transaction (nor its locks, nor its WAL) at once."""
EXPORT_PAGE = 1000
"""Rows read per query by an export: it holds at most one page in memory, whatever the size."""


class ErasureEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One erasure, as it is handed to the log. The user id is here for the adapter to hash:
    the log keeps the keyed hash only."""

    id: UUID
    client_id: UUID
    user_id: str
    erased_by: UUID
    erased_at: datetime
    events_deleted: int
    metric_rows_deleted: int
    windows_affected: int
    suppressed: bool


class ErasureView(msgspec.Struct, frozen=True, kw_only=True):
    """One erasure of the log: who asked, when, how much went; the user only as a hash."""

    id: UUID
    client_id: UUID
    user_hash: Annotated[
        str,
        msgspec.Meta(
            description="HMAC-SHA256 of (client id, user id) under the installation's "
            "key, in hex: never the user id."
        ),
    ]
    erased_by: Annotated[
        UUID, msgspec.Meta(description="The client that asked (the nil UUID: the CLI).")
    ]
    erased_at: datetime
    events_deleted: int
    metric_rows_deleted: int
    windows_affected: int
    suppressed: bool


@dataclass(frozen=True, slots=True)
class ErasedMetrics:
    """`windows`: those whose user row was deleted (and taken out of their run-log totals)."""

    rows: int
    windows: frozenset[Window]


class ExportedEvent(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="event"):
    id: UUID
    user_id: str
    action: str
    occurred_at: datetime
    received_at: datetime
    metadata: msgspec.Raw
    """The event's JSON object, as stored: passed through, never decoded."""


class ExportedMetric(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="metric"):
    user_id: str
    window_hours: int
    window_start: datetime
    window_end: datetime
    event_count: int
    distinct_actions: int
    action_counts: dict[str, int]
    first_event_at: datetime
    last_event_at: datetime
    computed_at: datetime


def user_of(actor: Principal, client_id: UUID | None, user_id: str, what: str) -> tuple[UUID, str]:
    """The user a privacy request names: of the caller's own client or, for an admin, of the
    client it names; the user id read by the rule events are stored under (`321` is `"321"`)."""
    chosen = client_id or actor.client_id
    if not actor.may_act_for(chosen):
        raise Forbidden("forbidden_client", f"a client may {what} only its own users")
    return chosen, user_id_of(user_id)
