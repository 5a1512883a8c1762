"""The event message on the topic: decoded strictly, encoded as HTTP ingest publishes it, and
an id for a message that names none, the same on every delivery."""

import itertools
import json
import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import msgspec
import pytest

from tracking.adapters.kafka.messages import (
    EventMessage,
    decode_message,
    encode_event,
    message_event_id,
)
from tracking.domain.events import Event
from tracking.domain.instants import instant_of

T0 = datetime(2025, 10, 23, 12, 0, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)
MAX_MS = (1 << 48) - 1


PUBLISHED = Event(
    id=uuid4(),
    client_id=uuid4(),
    user_id="user-7",
    action="cart:add",
    occurred_at=datetime(2025, 10, 23, 11, 58, 59, 999999, tzinfo=UTC),
    received_at=datetime(2025, 10, 23, 12, 0, 0, 1, tzinfo=UTC),
    metadata='{"sku":"A-1","qty":2,"price":9.5,"tags":["x",null],"note":"naïve ☕"}',
)


def published(**fields: Any) -> Event:
    return PUBLISHED._replace(id=uuid4(), **fields)


def unix_ms(value: uuid.UUID) -> int:
    return value.int >> 80


# Decoding


def test_a_message_naming_every_field_is_decoded_with_its_types() -> None:
    client_id, event_id = uuid4(), uuid4()
    value = json.dumps(
        {
            "client_id": str(client_id),
            "id": str(event_id),
            "user_id": 42,
            "action": "click",
            "occurred_at": "2025-10-23T13:00:00+01:00",
            "metadata": {"a": [1, {"b": None}]},
            "received_at": "2025-10-23T12:00:01Z",
        }
    ).encode()

    decoded = decode_message(value)

    assert msgspec.structs.replace(decoded, metadata=msgspec.Raw(b"")) == EventMessage(
        client_id=client_id,
        id=event_id,
        user_id=42,
        action="click",
        occurred_at="2025-10-23T13:00:00+01:00",
        received_at="2025-10-23T12:00:01Z",
    )
    assert msgspec.json.decode(decoded.metadata) == {"a": [1, {"b": None}]}


def test_only_client_user_and_action_are_required() -> None:
    client_id = uuid4()

    decoded = decode_message(
        f'{{"client_id": "{client_id}", "user_id": "u", "action": "a"}}'.encode()
    )

    assert (decoded.client_id, decoded.user_id, decoded.action) == (client_id, "u", "a")
    assert (decoded.id, decoded.occurred_at, decoded.received_at) == (None, None, None)
    assert bytes(decoded.metadata) == b""


@pytest.mark.parametrize(
    "value",
    [
        b'{"client_id": "%s", "user_id": "u", "action": "a", "extra": 1}',
        b'{"client_id": "%s", "user_id": "u"}',
        b'{"client_id": "%s", "user_id": true, "action": "a"}',
        b'{"client_id": "%s", "user_id": "u", "action": 5}',
        b'{"client_id": "%s", "user_id": "u", "action": "a", "received_at": 5}',
        b'{"user_id": "u", "action": "a"}',
    ],
    ids=["unknown-field", "no-action", "bool-user", "int-action", "int-received", "no-client"],
)
def test_a_message_that_is_no_event_fails_validation(value: bytes) -> None:
    with pytest.raises(msgspec.ValidationError):
        decode_message(value.replace(b"%s", str(uuid4()).encode()))


@pytest.mark.parametrize("value", [b"", b"{", b"not json", b'{"client_id" "x"}', b"\xff"])
def test_bytes_that_are_not_json_fail_decoding_not_validation(value: bytes) -> None:
    with pytest.raises(msgspec.DecodeError) as failed:
        decode_message(value)

    assert not isinstance(failed.value, msgspec.ValidationError)


# Encoding, as HTTP ingest publishes


def test_an_encoded_event_decodes_to_the_same_values() -> None:
    event = published()

    decoded = decode_message(encode_event(event))

    assert (decoded.id, decoded.client_id, decoded.user_id, decoded.action) == (
        event.id,
        event.client_id,
        event.user_id,
        event.action,
    )
    assert decoded.occurred_at is not None
    assert decoded.received_at is not None
    assert (
        instant_of(decoded.occurred_at, "occurred_at"),
        instant_of(decoded.received_at, "received_at"),
    ) == (event.occurred_at, event.received_at)
    assert bytes(decoded.metadata).decode() == event.metadata


def test_the_metadata_is_published_as_the_stored_json_not_as_a_string() -> None:
    event = published(metadata='{"k":"v"}')

    value = json.loads(encode_event(event))

    assert value["metadata"] == {"k": "v"}
    assert set(value) == {
        "client_id",
        "id",
        "user_id",
        "action",
        "occurred_at",
        "metadata",
        "received_at",
    }


def test_an_encoded_event_keeps_its_times_to_the_microsecond_and_in_utc() -> None:
    event = published(
        occurred_at=datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        received_at=datetime(2025, 1, 2, 3, 4, 5, 7, tzinfo=UTC),
    )

    decoded = decode_message(encode_event(event))

    assert (decoded.occurred_at, decoded.received_at) == (
        "2025-01-02T03:04:05.000006Z",
        "2025-01-02T03:04:05.000007Z",
    )


# Ids for messages that name none


def test_the_id_of_a_place_in_the_log_is_always_the_same() -> None:
    assert message_event_id("tracking.events", 3, 1234, T0_MS) == message_event_id(
        "tracking.events", 3, 1234, T0_MS
    )


@pytest.mark.parametrize("timestamp_ms", [0, 1, T0_MS, T0_MS + 1, MAX_MS])
def test_the_id_is_a_uuid7_whose_time_is_the_messages_timestamp(timestamp_ms: int) -> None:
    made = message_event_id("tracking.events", 0, 7, timestamp_ms)

    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert unix_ms(made) == timestamp_ms


@pytest.mark.parametrize("timestamp_ms", [-1, -(2**40), 1 << 48, 2**62])
def test_a_timestamp_out_of_range_still_gives_a_stable_uuid7(timestamp_ms: int) -> None:
    made = message_event_id("tracking.events", 0, 7, timestamp_ms)

    assert (made.version, made.variant) == (7, uuid.RFC_4122)
    assert made == message_event_id("tracking.events", 0, 7, timestamp_ms)


def test_every_place_in_the_log_has_its_own_id() -> None:
    places = list(
        itertools.product(["tracking.events", "other", "tracking.event"], range(4), range(500))
    )

    made = {message_event_id(topic, p, o, T0_MS) for topic, p, o in places}

    assert len(made) == len(places)
    assert all(unix_ms(m) == T0_MS for m in made)


def test_the_same_offset_in_another_partition_or_topic_is_another_id() -> None:
    base = message_event_id("tracking.events", 0, 10, T0_MS)

    others = [
        message_event_id("tracking.events", 1, 10, T0_MS),
        message_event_id("tracking.events", 0, 11, T0_MS),
        message_event_id("tracking.events2", 0, 10, T0_MS),
        # A naive join would make these two places one: "a/1/23" and "a/12/3".
        message_event_id("a", 1, 23, T0_MS),
    ]

    assert base not in others
    assert message_event_id("a", 1, 23, T0_MS) != message_event_id("a", 12, 3, T0_MS)


def test_ids_sort_by_the_messages_timestamps_wherever_they_sit_in_the_log() -> None:
    timestamps = [T0_MS - 3_600_000, T0_MS - 1, T0_MS, T0_MS + 1, T0_MS + 86_400_000]
    places = [("tracking.events", p, o) for p in range(3) for o in (0, 1, 999_999)]

    for earlier, later in itertools.pairwise(timestamps):
        latest_of_earlier = max(message_event_id(*place, earlier) for place in places)
        first_of_later = min(message_event_id(*place, later) for place in places)

        assert latest_of_earlier < first_of_later, (earlier, later)
