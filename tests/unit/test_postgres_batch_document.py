"""The document a batch of events travels in to PostgreSQL: one JSON array, whose fields no
metadata can change."""

import base64
import json
from datetime import UTC, datetime
from uuid import uuid4

import msgspec
import pytest

from tracking.adapters.postgres.events import batch_document
from tracking.domain.events import Event
from tracking.domain.privacy import UserHashKey

AT = datetime(2025, 10, 23, 12, 0, 0, 123456, tzinfo=UTC)


def event(metadata: str) -> Event:
    return Event(
        id=uuid4(),
        client_id=uuid4(),
        user_id='u "1"',
        action="a",
        occurred_at=AT,
        received_at=datetime.max.replace(tzinfo=UTC),
        metadata=metadata,
    )


def test_each_event_is_one_row_of_eight_fields_with_its_metadata_as_json() -> None:
    sent = event('{"k": [1, {"n": null}], "é": "☕"}')
    key = UserHashKey.random()

    [row] = json.loads(batch_document([sent], key))

    assert row == [
        str(sent.client_id),
        str(sent.id),
        'u "1"',
        "a",
        "2025-10-23T12:00:00.123456Z",
        "9999-12-31T23:59:59.999999Z",
        {"k": [1, {"n": None}], "é": "☕"},
        base64.b64encode(key.hash(sent.client_id, 'u "1"')).decode(),  # the user's hash
    ]


def test_without_a_key_no_event_carries_a_user_hash() -> None:
    [row] = json.loads(batch_document([event("{}")], None))

    assert row[7] is None


@pytest.mark.parametrize(
    "metadata",
    ['{"a": 1}, "x", "y", "z", "w", "v", ["evil"]', '{"a": 1} {"b": 2}', '{"a": '],
)
def test_metadata_that_is_not_one_json_value_cannot_enter_the_document(metadata: str) -> None:
    with pytest.raises(msgspec.DecodeError):
        batch_document([event(metadata)], UserHashKey.random())
