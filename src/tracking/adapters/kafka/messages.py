"""The event message on the topic, our wire format: a JSON event as the HTTP API takes it, plus
its client. Decoded here and mapped to the `StoreQueuedEvents` command."""

import hashlib
from datetime import UTC, datetime
from uuid import UUID

import msgspec

from tracking.application.commands.store_queued_events import QueuedEvent
from tracking.domain.errors import InvalidInput
from tracking.domain.events import Event

# A producer may stamp any time; one past the year 9999 stands for "now" (the clock).
_LATEST_TIMESTAMP_MS = int(datetime(9999, 12, 31, tzinfo=UTC).timestamp() * 1000)
_NO_METADATA = b""


class EventMessage(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`received_at` is set by Kafka-backed HTTP ingest; absent, the message's timestamp stands
    for it. `metadata` stays as the JSON the producer wrote: it is stored, never read."""

    client_id: UUID
    id: UUID | None = None
    user_id: str | int
    action: str
    occurred_at: str | None = None
    received_at: str | None = None
    metadata: msgspec.Raw = msgspec.Raw(_NO_METADATA)


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """A record as fetched: where it sits in the log, and its bytes."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None = None
    value: bytes | None = None


_DECODER = msgspec.json.Decoder(EventMessage)
_ENCODER = msgspec.json.Encoder()


def decode_message(value: bytes) -> EventMessage:
    return _DECODER.decode(value)


def queued_event(message: Message) -> QueuedEvent:
    """The event a message carries, or `InvalidInput` when it carries none: `invalid_json`
    for bytes that are not JSON (or not UTF-8), `invalid_event` for JSON of another shape.

    A message naming no id gets one made from its place in the log, so redelivery finds it
    stored; one naming no receipt time was received when Kafka stamped it (or now, when the
    timestamp is missing or past the year 9999)."""
    try:
        wire = _DECODER.decode(message.value or b"")
        metadata = _metadata(bytes(wire.metadata))
    except msgspec.ValidationError as error:
        raise InvalidInput("invalid_event", str(error)) from None
    except (msgspec.DecodeError, UnicodeDecodeError) as error:
        raise InvalidInput("invalid_json", str(error)) from None
    received_at: str | datetime | None = wire.received_at
    if received_at is None and 0 <= message.timestamp_ms <= _LATEST_TIMESTAMP_MS:
        received_at = datetime.fromtimestamp(message.timestamp_ms / 1000, UTC)
    return QueuedEvent(
        client_id=wire.client_id,
        id=wire.id
        or message_event_id(message.topic, message.partition, message.offset, message.timestamp_ms),
        user_id=wire.user_id,
        action=wire.action,
        occurred_at=wire.occurred_at,
        received_at=received_at,
        metadata=metadata,
    )


def _metadata(raw: bytes) -> str | None:
    if raw in (_NO_METADATA, b"null"):
        return None
    if not raw.startswith(b"{"):
        raise msgspec.ValidationError("Expected `object | null` - at `$.metadata`")
    return raw.decode()


def encode_event(event: Event) -> bytes:
    """As HTTP ingest publishes it: id and receipt time assigned, metadata already JSON."""
    return _ENCODER.encode(
        {
            "client_id": event.client_id,
            "id": event.id,
            "user_id": event.user_id,
            "action": event.action,
            "occurred_at": event.occurred_at,
            "metadata": msgspec.Raw(event.metadata.encode()),
            "received_at": event.received_at,
        }
    )


def message_event_id(topic: str, partition: int, offset: int, timestamp_ms: int) -> UUID:
    """The id of a message that names none: a UUIDv7 made from the message's timestamp and its
    place in the log, so every redelivery of it gives the same id and is stored once."""
    place = hashlib.sha256(f"{topic}/{partition}/{offset}".encode()).digest()
    random_bits = int.from_bytes(place[:10]) & ((1 << 74) - 1)
    millis = max(0, min(timestamp_ms, (1 << 48) - 1))
    value = (millis << 80) | (0x7 << 76) | ((random_bits >> 62) << 64)
    value |= (0b10 << 62) | (random_bits & ((1 << 62) - 1))
    return UUID(int=value)
