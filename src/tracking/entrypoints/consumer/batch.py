"""One fetched batch: decoded, checked, stored in one transaction; what cannot be stored is
set aside as dead letters with the reason."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

import msgspec

from tracking.adapters.kafka.messages import EventMessage, decode_message, message_event_id
from tracking.application.commands.record_events import (
    NewEvent,
    RecordEvents,
    RecordEventsHandler,
)
from tracking.application.queries.active_clients import ActiveClients, ActiveClientsHandler

# A producer may stamp any time; one past the year 9999 stands for "now" (the clock).
_LATEST_TIMESTAMP_MS = int(datetime(9999, 12, 31, tzinfo=UTC).timestamp() * 1000)


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """A record as fetched: where it sits in the log, and its bytes."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None = None
    value: bytes | None = None


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    message: Message
    reason: str
    """`undecodable`, `invalid_event` or `unknown_client`."""
    code: str
    detail: str


@dataclass
class BatchOutcome:
    stored: int = 0
    duplicates: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)


class BatchIngest:
    def __init__(self, store: RecordEventsHandler, active_clients: ActiveClientsHandler) -> None:
        self._store = store
        self._active_clients = active_clients

    async def __call__(self, messages: Sequence[Message]) -> BatchOutcome:
        """Safe to call again with the same messages: each event is stored once."""
        outcome = BatchOutcome()
        decoded = [(m, e) for m in messages if (e := _decoded(m, outcome)) is not None]
        active = await self._active_clients(
            ActiveClients(client_ids={event.client_id for _, event in decoded})
        )
        by_client: dict[UUID, list[tuple[Message, NewEvent]]] = {}
        for message, event in decoded:
            if event.client_id in active:
                by_client.setdefault(event.client_id, []).append(
                    (message, _new_event(message, event))
                )
            else:
                outcome.dead_letters.append(_unknown_client(message, event.client_id))
        commands = [
            RecordEvents(client_id=client_id, events=[event for _, event in items])
            for client_id, items in by_client.items()
        ]
        recorded = await self._store.record_all(commands) if commands else []
        for items, answer in zip(by_client.values(), recorded, strict=True):
            outcome.stored += answer.count("stored")
            outcome.duplicates += answer.count("duplicate")
            for result in answer.results:
                if result.error is not None:
                    error = result.error
                    outcome.dead_letters.append(
                        DeadLetter(
                            message=items[result.index][0],
                            reason="invalid_event",
                            code=error.code,
                            detail=f"{error.field} {error.message}",
                        )
                    )
        outcome.dead_letters.sort(key=lambda d: (d.message.partition, d.message.offset))
        return outcome


def _decoded(message: Message, outcome: BatchOutcome) -> EventMessage | None:
    try:
        return decode_message(message.value or b"")
    except msgspec.ValidationError as error:
        reason, code = "invalid_event", "invalid_event"
        detail = str(error)
    except msgspec.DecodeError as error:
        reason, code = "undecodable", "invalid_json"
        detail = str(error)
    outcome.dead_letters.append(
        DeadLetter(message=message, reason=reason, code=code, detail=detail)
    )
    return None


def _new_event(message: Message, event: EventMessage) -> NewEvent:
    """A message naming no id gets one made from its place in the log, so redelivery finds
    it stored; one naming no receipt time was received when Kafka stamped it (or now, when
    the timestamp is missing or past the year 9999)."""
    event_id = event.id or message_event_id(
        message.topic, message.partition, message.offset, message.timestamp_ms
    )
    received_at = event.received_at
    if received_at is None and 0 <= message.timestamp_ms <= _LATEST_TIMESTAMP_MS:
        received_at = datetime.fromtimestamp(message.timestamp_ms / 1000, UTC)
    return msgspec.structs.replace(event, id=event_id, received_at=received_at)


def _unknown_client(message: Message, client_id: UUID) -> DeadLetter:
    return DeadLetter(
        message=message,
        reason="unknown_client",
        code="unknown_client",
        detail=f"client {client_id} does not exist or is not active",
    )
