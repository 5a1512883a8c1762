"""The consumer while its dependencies fail: with PostgreSQL down it pauses, retries without
committing, says so on readiness, and stores everything once when PostgreSQL is back."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.kafka_helpers import (
    count_is,
    eventually,
    kafka_settings,
    message,
    new_client,
    running,
    stored,
)
from tests.integration.outage import Database, reachable
from tests.kafka import committed, produce
from tracking.adapters.postgres import migrations
from tracking.bootstrap import Container, resolved, shut_down
from tracking.entrypoints.consumer.run import ConsumerService


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path)
    yield database
    await database.stop()


async def test_the_database_going_down_pauses_the_consumer_and_nothing_is_lost(
    database: Database, kafka_bootstrap: str, kafka_topic: str
) -> None:
    url = await database.start()
    await asyncio.to_thread(migrations.upgrade, url)
    settings = kafka_settings(
        url, kafka_bootstrap, kafka_topic, db_connect_timeout_seconds=1, db_pool_timeout_seconds=1
    )
    setup = Container(settings=settings)
    client = await new_client(setup)
    await shut_down(setup)
    before = [uuid.uuid4() for _ in range(20)]
    during = [uuid.uuid4() for _ in range(30)]
    group, topic = settings.kafka_group, settings.kafka_topic

    container = Container(settings=settings)
    service = ConsumerService(container)
    readiness = await resolved(container.consumer_readiness())
    async with running(service):
        await produce(kafka_bootstrap, topic, [message(client, id=str(i)) for i in before])
        await count_is(url, len(before))
        await eventually(lambda: _committed_total(kafka_bootstrap, group, topic, len(before)))

        await database.stop()
        assert not await reachable(url)
        await produce(kafka_bootstrap, topic, [message(client, id=str(i)) for i in during])

        async def retrying() -> bool:
            return service.stats.retrying == "store"

        await eventually(retrying)
        report = await readiness()
        assert not report.ready
        statuses = {d.name: d for d in report.dependencies}
        assert statuses["consumer"].detail == "RetryingError"
        assert statuses["database"].status == "down"
        await asyncio.sleep(1)  # several retries, none of them committing
        assert await _committed_total(kafka_bootstrap, group, topic, len(before))

        assert await database.start() == url
        await count_is(url, len(before) + len(during))
        await eventually(
            lambda: _committed_total(kafka_bootstrap, group, topic, len(before) + len(during))
        )
        assert (await readiness()).ready

    assert sorted(row[1] for row in await stored(url)) == sorted(before + during)


async def _committed_total(bootstrap: str, group: str, topic: str, expected: int) -> bool:
    offsets = await committed(bootstrap, group, topic)
    return sum(offset or 0 for offset in offsets.values()) == expected
