"""The event message on the topic: a JSON event as the HTTP API takes it, plus its client."""

import hashlib
from uuid import UUID

import msgspec

from tracking.application.commands.record_events import NewEvent
from tracking.domain.events import Event


class EventMessage(NewEvent, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A `NewEvent` that names its client. Its `received_at` is set by Kafka-backed HTTP
    ingest; absent, the message's timestamp stands for it."""

    client_id: UUID


_DECODER = msgspec.json.Decoder(EventMessage)
_ENCODER = msgspec.json.Encoder()


def decode_message(value: bytes) -> EventMessage:
    return _DECODER.decode(value)


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
