"""`tracking consume` in this process, against the real broker and PostgreSQL: batches are
stored, then committed; what cannot be stored goes to the dead-letter topic with its reason."""

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from dependency_injector import providers

from tests.databases import dsn
from tests.integration.kafka_helpers import (
    count_is,
    eventually,
    kafka_settings,
    message,
    new_client,
    running,
    stored,
)
from tests.kafka import committed, produce, read_all
from tracking.adapters.kafka.messages import message_event_id
from tracking.application.ports import EventWriter, Queued, Stored
from tracking.bootstrap import Container, resolved, shut_down
from tracking.domain.events import Event
from tracking.entrypoints.consumer.run import ConsumerService
from tracking.settings import Settings


@pytest.fixture
def consumer_settings(database_url: str, kafka_bootstrap: str, kafka_topic: str) -> Settings:
    return kafka_settings(database_url, kafka_bootstrap, kafka_topic)


@pytest.fixture
async def container(consumer_settings: Settings) -> AsyncIterator[Container]:
    built = Container(settings=consumer_settings)
    yield built
    await shut_down(built)


def service(settings: Settings) -> ConsumerService:
    return ConsumerService(Container(settings=settings))


async def test_a_batch_is_stored_then_its_offsets_committed(
    consumer_settings: Settings, container: Container, kafka_bootstrap: str, database_url: str
) -> None:
    client = await new_client(container)
    ids = [uuid.uuid4() for _ in range(40)]
    values = [message(client, id=str(i), user_id=f"u{n % 7}") for n, i in enumerate(ids)]
    await produce(kafka_bootstrap, consumer_settings.kafka_topic, values)

    consumer = service(consumer_settings)
    async with running(consumer):
        await count_is(database_url, len(ids))

        async def all_committed() -> bool:
            offsets = await committed(
                kafka_bootstrap, consumer_settings.kafka_group, consumer_settings.kafka_topic
            )
            return sum(offset or 0 for offset in offsets.values()) == len(ids)

        await eventually(all_committed)

    assert sorted(row[1] for row in await stored(database_url)) == sorted(ids)
    assert {row[0] for row in await stored(database_url)} == {client}
    assert sample(consumer, "tracking_consumer_events_stored_total") == len(ids)


async def test_invalid_messages_become_dead_letters_and_their_neighbours_are_stored(
    consumer_settings: Settings, container: Container, kafka_bootstrap: str, database_url: str
) -> None:
    client = await new_client(container)
    inactive = await new_client(container, active=False)
    good = [uuid.uuid4() for _ in range(3)]
    values = [
        message(client, id=str(good[0])),
        b"{not json",
        message(client, id=str(good[1]), action="has spaces"),
        message(uuid.uuid4(), id=str(uuid.uuid4())),
        message(inactive),
        message(client, id=str(good[1])),
        message(client, id=str(good[2]), unexpected=1),
        message(client, id=str(good[2])),
    ]
    topic = consumer_settings.kafka_topic
    await produce(kafka_bootstrap, topic, values, keys=[b"same-key"] * len(values))

    async with running(service(consumer_settings)):
        letters = await read_all(kafka_bootstrap, f"{topic}.dlq", expected=5)

    assert sorted(row[1] for row in await stored(database_url)) == sorted(good)
    by_offset = {int(letter.headers["tracking.original-offset"]): letter for letter in letters}
    assert sorted(by_offset) == [1, 2, 3, 4, 6]
    source = await read_all(kafka_bootstrap, topic, expected=len(values))
    (partition,) = {record.partition for record in source}  # one key, one partition
    expected = {
        1: ("undecodable", "invalid_json"),
        2: ("invalid_event", "invalid_action"),
        3: ("unknown_client", "unknown_client"),
        4: ("unknown_client", "unknown_client"),
        6: ("invalid_event", "invalid_event"),
    }
    for offset, (reason, code) in expected.items():
        letter = by_offset[offset]
        assert letter.headers["tracking.reason"] == reason.encode()
        assert letter.headers["tracking.error-code"] == code.encode()
        assert letter.headers["tracking.original-topic"] == topic.encode()
        assert letter.headers["tracking.original-partition"] == str(partition).encode()
        assert letter.value == values[offset]
        assert letter.key == b"same-key"
    assert b"unexpected" in by_offset[6].headers["tracking.error-detail"]


async def test_a_message_without_an_id_is_stored_once_however_often_it_is_delivered(
    consumer_settings: Settings, container: Container, kafka_bootstrap: str, database_url: str
) -> None:
    client = await new_client(container)
    topic = consumer_settings.kafka_topic
    await produce(kafka_bootstrap, topic, [message(client, action="no-id")], keys=[b"k"])

    async with running(service(consumer_settings)):
        await count_is(database_url, 1)
    # A second group reads the same message again: a redelivery, as after a lost commit.
    again = kafka_settings(database_url, kafka_bootstrap, topic)
    consumer = service(again)
    async with running(consumer):
        await eventually(lambda: _counted(consumer, duplicates=1))

    (row,) = await stored(database_url)
    assert row[2] == "no-id"
    (letter,) = await read_all(kafka_bootstrap, topic, expected=1)
    assert row[1].version == 7
    assert row[1] == message_event_id(topic, letter.partition, letter.offset, _ts(row[1]))


def _ts(event_id: uuid.UUID) -> int:
    return event_id.int >> 80


async def _counted(consumer: ConsumerService, *, duplicates: int) -> bool:
    return sample(consumer, "tracking_consumer_events_duplicate_total") == duplicates


def sample(consumer: ConsumerService, name: str, **labels: str) -> float | None:
    value: float | None = consumer.stats.registry.get_sample_value(name, labels)
    return value


class PoisonedWriter(EventWriter):
    """The real writer, with a bug that one event triggers: what a message meeting a bug in
    our code looks like to the consumer."""

    def __init__(self, writer: EventWriter) -> None:
        self._writer = writer

    async def write(self, events: Sequence[Event]) -> Stored | Queued:
        if any(event.action == "poison" for event in events):
            raise RuntimeError("a bug this one event meets")
        return await self._writer.write(events)


async def test_a_message_that_meets_a_bug_is_dead_lettered_as_internal_error_and_the_rest_stored(
    consumer_settings: Settings, container: Container, kafka_bootstrap: str, database_url: str
) -> None:
    """Retried a bounded number of times, then the batch is split down to the message that
    fails: the partition goes on, and no other message is lost or dead-lettered."""
    client = await new_client(container)
    ids = [uuid.uuid4() for _ in range(30)]
    values = [
        message(client, id=str(i), action="poison" if n == 17 else "view")
        for n, i in enumerate(ids)
    ]
    topic = consumer_settings.kafka_topic
    await produce(kafka_bootstrap, topic, values, keys=[b"one-partition"] * len(values))
    poisoned = Container(settings=consumer_settings)
    real = await resolved(poisoned.store_writer())
    poisoned.store_writer.override(providers.Object(PoisonedWriter(real)))
    consumer = ConsumerService(poisoned)

    async with running(consumer):
        [letter] = await read_all(kafka_bootstrap, f"{topic}.dlq", expected=1)
        await count_is(database_url, 29)

        async def all_committed() -> bool:
            offsets = await committed(kafka_bootstrap, consumer_settings.kafka_group, topic)
            return sum(offset or 0 for offset in offsets.values()) == len(ids)

        await eventually(all_committed)

    assert int(letter.headers["tracking.original-offset"]) == 17
    assert letter.headers["tracking.reason"] == b"internal_error"
    assert letter.headers["tracking.error-code"] == b"internal_error"
    assert b"RuntimeError: a bug this one event meets" in letter.headers["tracking.error-detail"]
    assert sorted(row[1] for row in await stored(database_url)) == sorted(ids[:17] + ids[18:])
    assert sample(consumer, "tracking_consumer_dead_letters_total", reason="internal_error") == 1
    assert (sample(consumer, "tracking_consumer_batch_splits_total") or 0) >= 1


async def test_kafka_times_are_read_by_the_same_rules_as_http(
    consumer_settings: Settings, container: Container, kafka_bootstrap: str, database_url: str
) -> None:
    """Too old against its receipt: a dead letter naming the rule. Nanoseconds: truncated, so
    the event stays before the window boundary it precedes."""
    client = await new_client(container)
    now = datetime.now(UTC).replace(microsecond=0)
    boundary = now.replace(hour=now.hour - now.hour % 4, minute=0, second=0)
    seven_digits = (boundary - timedelta(seconds=1)).isoformat().replace("+00:00", ".9999999Z")
    values = [
        message(client, id=str(uuid.uuid4()), occurred_at="2001-01-01T00:00:00Z"),
        message(client, id=str(uuid.uuid4()), occurred_at=seven_digits),
    ]
    topic = consumer_settings.kafka_topic
    await produce(kafka_bootstrap, topic, values, keys=[b"k"] * len(values))

    async with running(service(consumer_settings)):
        [letter] = await read_all(kafka_bootstrap, f"{topic}.dlq", expected=1)
        await count_is(database_url, 1)

    assert letter.headers["tracking.error-code"] == b"occurred_at_too_old"
    assert letter.headers["tracking.reason"] == b"invalid_event"
    connection = await asyncpg.connect(dsn(database_url))
    try:
        stored_at = await connection.fetchval("SELECT occurred_at FROM events")
    finally:
        await connection.close()
    assert stored_at == boundary - timedelta(microseconds=1)
