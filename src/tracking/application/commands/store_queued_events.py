"""StoreQueuedEvents: events taken from a queue in front of us (Kafka), of any clients, stored
exactly once in one write."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

import msgspec

from tracking.application.answer_cache import AnswerCache
from tracking.application.commands.record_events import CheckedBatch, RecordedEvents
from tracking.application.errors import NotFound
from tracking.application.ports import ClientReadModel, Clock, EventWriter
from tracking.domain.errors import RuleViolation, TrackingError
from tracking.domain.events import (
    METADATA_MAX_BYTES,
    NO_METADATA,
    Event,
    check_encoded_depth,
    received_at_of,
)
from tracking.domain.retention import check_retained

_ONE_JSON_VALUE = msgspec.json.Decoder(msgspec.Raw)


class QueuedEvent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An event as a queue carries it. It names its client, as a credential does on HTTP; its
    id, the sender's or one the queue's adapter made from the event's place in the queue, so a
    redelivery finds it stored; and when the queue received it (None: now)."""

    client_id: UUID
    id: UUID
    user_id: str | int
    action: str
    occurred_at: str | datetime | None = None
    received_at: str | datetime | None = None
    metadata: str | None = None
    """The sender's JSON object as text, passed through without being decoded."""


class StoreQueuedEvents(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    events: Sequence[QueuedEvent]


class StoreQueuedEventsHandler:
    """Only an existing, active client's events are stored (its clients are looked up once per
    batch); an event of any other is rejected as `unknown_client`, one breaking a rule with
    that rule. The valid events are stored in one write, and each answer (`stored`,
    `duplicate`, `rejected`) is at the event's index. Safe to repeat with the same events.

    An event's age is judged against its receipt time, not ours, so a backlog drained days
    later is not refused; its client's retention against ours (`occurred_at_past_retention`:
    the next retention run would remove it). After the commit, the cached stats that late
    events change are dropped, as for HTTP ingest."""

    def __init__(
        self,
        writer: EventWriter,
        clients: ClientReadModel,
        clock: Clock,
        max_age: timedelta,
        stats: AnswerCache,
    ) -> None:
        self._writer = writer
        self._clients = clients
        self._clock = clock
        self._max_age = max_age
        self._stats = stats

    async def __call__(self, command: StoreQueuedEvents) -> RecordedEvents:
        now = self._clock.now()
        # Clients by their ids' integers: hashed and compared in C, a UUID's are Python calls.
        named = {event.client_id.int for event in command.events}
        found = await self._clients.active_among([UUID(int=number) for number in named])
        active = {client_id.int: principal for client_id, principal in found.items()}
        batch = CheckedBatch()
        for index, item in enumerate(command.events):
            try:
                client = active.get(item.client_id.int)
                if client is None:
                    raise _unknown(item.client_id)
                event = Event.record(
                    id=item.id,
                    client_id=item.client_id,
                    user_id=item.user_id,
                    action=item.action,
                    occurred_at=item.occurred_at,
                    received_at=now
                    if item.received_at is None
                    else received_at_of(item.received_at),
                    metadata=_checked(item.metadata),
                    max_age=self._max_age,
                )
                check_retained(event.occurred_at, client.retention_days, now)
            except TrackingError as error:
                batch.reject(index, item.id, error)
            else:
                batch.accept(index, event)
        results = await batch.written(self._writer)
        await self._stats.forget_late(batch.stored(), self._clock.now())
        return RecordedEvents(results=results)


def _checked(metadata: str | None) -> str:
    """The metadata as stored: exactly one JSON value (checked without building it), nested
    no deeper than the rule allows, and compacted only when its text is over the size limit,
    which is on the compact encoding."""
    if metadata is None or metadata == "null":
        return NO_METADATA
    check_encoded_depth(metadata)
    try:
        _ONE_JSON_VALUE.decode(metadata)
    except msgspec.DecodeError:
        raise RuleViolation("invalid_metadata", "metadata", "must be a JSON object") from None
    if len(metadata) > METADATA_MAX_BYTES and metadata.startswith("{"):
        return msgspec.json.encode(msgspec.json.decode(metadata)).decode()
    return metadata


def _unknown(client_id: UUID) -> NotFound:
    return NotFound("unknown_client", f"client {client_id} does not exist or is not active")
