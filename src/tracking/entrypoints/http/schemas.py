"""The HTTP API's request and response bodies: separate from commands, so either can change."""

from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from tracking.application.commands.record_events import ItemStatus
from tracking.application.views import ClientView, client_view
from tracking.domain.clients import (
    MAX_EVENTS_PER_MINUTE,
    MAX_RATE_LIMIT_PER_MINUTE,
    MAX_RETENTION_DAYS,
    NAME_MAX_LENGTH,
    Client,
    Role,
)

Status = Literal["stored", "duplicate", "accepted"]

_METADATA_EXAMPLE = {"page": "/hello/world"}
_RETENTION = (
    f"1-{MAX_RETENTION_DAYS} days: its events that occurred longer ago than that are removed "
    "by `tracking retention` (their metrics stay); null keeps them for ever"
)


class EventIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: Annotated[
        UUID | None,
        msgspec.Meta(description="Idempotency key: the same id sent again is stored once."),
    ] = None
    user_id: Annotated[
        str | int,
        msgspec.Meta(description="1-128 characters; a JSON integer is kept as its decimal string."),
    ]
    action: Annotated[
        str,
        msgspec.Meta(
            description="1-64 characters of A-Z, a-z, 0-9, '_', '.', ':' and '-'.",
            examples=["test_action", "checkout.completed"],
        ),
    ]
    occurred_at: Annotated[
        str | None,
        msgspec.Meta(
            description="RFC 3339 with an offset, any fractional digits (kept to the "
            "microsecond by truncation); defaults to the time we receive it; at most 5 minutes "
            "in the future and, outside an import, TRACKING_EVENT_MAX_AGE_DAYS in the past.",
            examples=["2025-01-01T12:00:00Z"],
            extra_json_schema={"extra": {"format": "date-time"}},
        ),
    ] = None
    metadata: Annotated[
        dict[str, Any] | None,
        msgspec.Meta(
            description="Any JSON object, at most 16 KiB encoded.", examples=[_METADATA_EXAMPLE]
        ),
    ] = None


class EventBatchIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """As the client sends it: each item is decoded on its own, so one bad item is reported
    with its index and does not sink its neighbours."""

    events: Annotated[list[msgspec.Raw], msgspec.Meta(min_length=1)]


class EventBatchSchema(msgspec.Struct, frozen=True, kw_only=True):
    """The batch body as documented: 1 to 1000 events, at most 1 MiB."""

    events: Annotated[list[EventIn], msgspec.Meta(min_length=1, max_length=1000)]


class RecordedEvent(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    status: Status


class ItemError(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    field: str
    message: str


class ItemOut(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    index: int
    id: UUID | None
    status: ItemStatus
    error: ItemError | None = None


class BatchRecorded(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    stored: int
    duplicates: int
    rejected: int
    accepted: Annotated[
        int, msgspec.Meta(description="Queued for storage (TRACKING_INGEST_MODE=kafka).")
    ] = 0
    results: list[ItemOut]


class ClientIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[
        str,
        msgspec.Meta(
            description=f"Unique; 1-{NAME_MAX_LENGTH} printable characters.",
            examples=["shop-frontend"],
        ),
    ]
    role: Role = Role.CLIENT
    # Unset, not None, when left out, so `null` is refused as before rather than read as
    # "the default".
    rate_limit_per_minute: Annotated[
        int | msgspec.UnsetType,
        msgspec.Meta(
            description=f"1-{MAX_RATE_LIMIT_PER_MINUTE} requests per minute; by default the "
            "installation's (1000 unless configured)."
        ),
    ] = msgspec.UNSET
    events_per_minute: Annotated[
        int | msgspec.UnsetType,
        msgspec.Meta(
            description=f"1-{MAX_EVENTS_PER_MINUTE} events ingested per minute (a batch of N "
            "counts N); by default the installation's (60000 unless configured)."
        ),
    ] = msgspec.UNSET
    retention_days: Annotated[
        int | msgspec.UnsetType | None,
        msgspec.Meta(description=_RETENTION + ", as when left out.", examples=[90]),
    ] = msgspec.UNSET


class ClientUpdateIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to change; a field left out stays as it is, and at least one must be sent.
    Unset, not None, marks one left out, so `null` is refused rather than read as "keep"
    (but for `retention_days`, where `null` clears the retention: events kept for ever)."""

    rate_limit_per_minute: Annotated[
        int | msgspec.UnsetType,
        msgspec.Meta(description=f"1-{MAX_RATE_LIMIT_PER_MINUTE} requests per minute."),
    ] = msgspec.UNSET
    events_per_minute: Annotated[
        int | msgspec.UnsetType,
        msgspec.Meta(
            description=f"1-{MAX_EVENTS_PER_MINUTE} events ingested per minute (a batch of N "
            "counts N)."
        ),
    ] = msgspec.UNSET
    role: Role | msgspec.UnsetType = msgspec.UNSET
    active: Annotated[
        bool | msgspec.UnsetType,
        msgspec.Meta(description="false deactivates the client; true reactivates it."),
    ] = msgspec.UNSET
    # The one field where null means something: "no retention", not "keep as it is".
    retention_days: Annotated[
        int | msgspec.UnsetType | None,
        msgspec.Meta(description=_RETENTION + ".", examples=[90]),
    ] = msgspec.UNSET


class ClientWithKey(ClientView, frozen=True, kw_only=True):
    api_key: Annotated[str, msgspec.Meta(description="Shown only in this answer; store it now.")]

    @classmethod
    def of(cls, client: Client, api_key: str) -> "ClientWithKey":
        return cls(**msgspec.structs.asdict(client_view(client)), api_key=api_key)


class TokenOut(msgspec.Struct, frozen=True, kw_only=True):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
