"""The request log while PostgreSQL is down: requests wait in the buffer, nothing fails, and
once the database is back they are written, each once."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.outage import Database
from tests.unit.support import stats_cache
from tracking.adapters.postgres import migrations
from tracking.adapters.postgres.database import create_engine
from tracking.adapters.postgres.request_log import PostgresRequestLogStore
from tracking.adapters.postgres.usage_reads import PostgresUsageReadModel
from tracking.adapters.request_log import BufferedRequestLog
from tracking.adapters.system import SystemClock, UuidV7Generator

ATTEMPTS = 40  # a quarter of a second apart


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path)
    yield database
    await database.stop()


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    url = await database.start()
    await asyncio.to_thread(migrations.upgrade, url)
    engine = create_engine(url, connect_timeout=1, pool_timeout=1, statement_timeout_ms=2000)
    yield engine
    await engine.dispose()


async def test_requests_wait_out_an_outage_and_are_written_once_after(
    database: Database, engine: AsyncEngine
) -> None:
    client = uuid4()
    log = BufferedRequestLog(
        PostgresRequestLogStore(engine),
        SystemClock(),
        UuidV7Generator(),
        stats_cache(namespace="usage"),
        max_rows=1000,
        retention_days=30,
    )
    log.record(client, "GET", "/api/events", 200, 0.01, request_id="before")
    assert await log.write()

    await database.stop()
    for n in range(5):
        log.record(client, "POST", "/api/event", 201, 0.01, request_id=f"during-{n}")
    assert not await log.write()
    assert log.buffered == 5
    await database.start()
    written = False
    for _ in range(ATTEMPTS):
        # The pool may hold connections to the old server: a few tries to notice.
        written = await log.write()
        if written:
            break
        await asyncio.sleep(0.25)

    now = datetime.now(UTC)
    usage = PostgresUsageReadModel(engine)
    (figures,) = await usage.periods(
        client, [now - timedelta(hours=1), now + timedelta(hours=1)], 5
    )
    assert written
    assert figures.requests == 6
    assert [(r.route, r.requests) for r in figures.top_routes] == [
        ("/api/event", 5),
        ("/api/events", 1),
    ]
