"""Real PostgreSQL for the test suite: `TRACKING_TEST_DATABASE_URL`, or a throwaway server
from pgserver; databases made from a migrated template, so each test can have its own."""

import asyncio
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from tracking.adapters.postgres import migrations
from tracking.adapters.postgres.database import async_url, create_engine
from tracking.adapters.postgres.event_partitions import PostgresEventPartitions
from tracking.adapters.system import SystemClock

TEMPLATE = "tracking_test_template"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def dsn(url: str) -> str:
    return async_url(url).replace("postgresql+asyncpg://", "postgresql://", 1)


async def _execute(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(dsn(url))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _months_made(url: str) -> None:
    """What `tracking migrate` does after migrating: the events' coming months made."""
    engine = create_engine(url)
    try:
        await PostgresEventPartitions(engine, SystemClock(), months_ahead=2).upkeep()
    finally:
        await engine.dispose()


def create_template(server_url: str) -> None:
    """A database migrated to head, its coming months' partitions made, to copy from."""
    asyncio.run(
        _execute(
            server_url,
            f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)",
            f"CREATE DATABASE {TEMPLATE}",
        )
    )
    migrations.upgrade(with_database(server_url, TEMPLATE))
    asyncio.run(_months_made(with_database(server_url, TEMPLATE)))


async def create_database(server_url: str, *, migrated: bool = True) -> str:
    name = f"tracking_test_{uuid.uuid4().hex[:12]}"
    template = f" TEMPLATE {TEMPLATE}" if migrated else ""
    await _execute(server_url, f"CREATE DATABASE {name}{template}")
    return with_database(server_url, name)


async def drop_database(server_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    await _execute(server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
