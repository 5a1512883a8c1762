"""Events a privacy rule refuses on Kafka, against the real broker and PostgreSQL: a
suppressed user's, and one older than its client's retention (the next retention run would
remove it), each become a dead letter with the rule as its reason (`user_suppressed`,
`occurred_at_past_retention`), and their neighbours are stored."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.kafka_helpers import count_is, kafka_settings, message, new_client, running
from tests.integration.kafka_helpers import stored as stored_rows
from tests.kafka import produce, read_all
from tracking.application.commands.erase_user import EraseUser
from tracking.application.commands.update_client import UpdateClient
from tracking.application.principal import Principal
from tracking.bootstrap import Container, resolved, shut_down
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


async def test_a_suppressed_users_messages_become_dead_letters_with_that_reason(
    consumer_settings: Settings, container: Container, kafka_bootstrap: str, database_url: str
) -> None:
    client = await new_client(container)
    handlers = await resolved(container.handlers())
    erase = EraseUser(actor=Principal.operator(), user_id="gone", client_id=client, suppress=True)
    await handlers.erase_user(erase)
    kept = [uuid.uuid4(), uuid.uuid4()]
    values = [
        message(client, id=str(kept[0]), user_id="stays"),
        message(client, id=str(uuid.uuid4()), user_id="gone"),
        message(client, id=str(kept[1]), user_id="stays"),
    ]
    topic = consumer_settings.kafka_topic
    await produce(kafka_bootstrap, topic, values, keys=[b"k"] * len(values))

    async with running(ConsumerService(Container(settings=consumer_settings))):
        [letter] = await read_all(kafka_bootstrap, f"{topic}.dlq", expected=1)
        await count_is(database_url, 2)

    assert letter.headers["tracking.reason"] == b"user_suppressed"
    assert letter.headers["tracking.error-code"] == b"user_suppressed"
    assert letter.headers["tracking.original-offset"] == b"1"
    assert letter.value == values[1]
    assert sorted(row[1] for row in await stored_rows(database_url)) == sorted(kept)


async def test_an_event_past_its_clients_retention_becomes_a_dead_letter(
    consumer_settings: Settings, container: Container, kafka_bootstrap: str, database_url: str
) -> None:
    client = await new_client(container)
    handlers = await resolved(container.handlers())
    await handlers.update_client(
        UpdateClient(actor=Principal.operator(), client_id=client, retention_days=1)
    )
    now = datetime.now(UTC)
    kept = [uuid.uuid4(), uuid.uuid4()]
    values = [
        message(client, id=str(kept[0]), occurred_at=(now - timedelta(hours=1)).isoformat()),
        message(client, id=str(uuid.uuid4()), occurred_at=(now - timedelta(days=2)).isoformat()),
        message(client, id=str(kept[1])),
    ]
    topic = consumer_settings.kafka_topic
    await produce(kafka_bootstrap, topic, values, keys=[b"k"] * len(values))

    async with running(ConsumerService(Container(settings=consumer_settings))):
        [letter] = await read_all(kafka_bootstrap, f"{topic}.dlq", expected=1)
        await count_is(database_url, 2)

    assert letter.headers["tracking.error-code"] == b"occurred_at_past_retention"
    assert letter.headers["tracking.original-offset"] == b"1"
    assert letter.value == values[1]
    assert sorted(row[1] for row in await stored_rows(database_url)) == sorted(kept)
