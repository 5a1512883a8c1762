"""The schema is owned by the migrations: they go up, down and up again, and they build
exactly what `tracking.adapters.postgres.tables` describes."""

import asyncio
from datetime import date
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from tracking.adapters.postgres import migrations
from tracking.adapters.postgres.database import async_url, create_engine
from tracking.adapters.postgres.event_partitions import PostgresEventPartitions
from tracking.adapters.postgres.request_log import PostgresRequestLogStore
from tracking.adapters.postgres.tables import managed_by_migrations, metadata
from tracking.adapters.system import SystemClock

OURS = {
    "clients",
    "events",
    "user_activity_metrics",
    "metric_windows",
    "stale_windows",
    "request_log",
    "suppressed_users",
    "erasures",
    "event_key_trims",
    "service_keys",
    "event_keys",
    "stream_positions",
    "event_journal",
}
MIGRATED_PARTITIONS = {"events_default"}
"""Tables the migrations make that the metadata does not describe: partitions."""
VERSIONS = "alembic_version"


async def tables(url: str) -> set[str]:
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as connection:
            result = await connection.exec_driver_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
            return {row.tablename for row in result}
    finally:
        await engine.dispose()


async def differences(url: str) -> list[Any]:
    """What alembic's autogenerate would write to make the database match the tables."""

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_name": managed_by_migrations,
            },
        )
        return list(compare_metadata(context, metadata))

    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


async def revision(url: str) -> str | None:
    return await migrations.current(url)


async def test_upgrade_downgrade_and_upgrade_again_on_an_empty_database(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    head = migrations.head()
    assert head is not None
    assert await tables(url) == set()
    assert await revision(url) is None

    await asyncio.to_thread(migrations.upgrade, url)
    assert await tables(url) == {*OURS, *MIGRATED_PARTITIONS, VERSIONS}
    assert await revision(url) == head

    await asyncio.to_thread(migrations.downgrade, url, "base")
    assert await tables(url) == {VERSIONS}
    assert await revision(url) is None

    await asyncio.to_thread(migrations.upgrade, url)
    assert await tables(url) == {*OURS, *MIGRATED_PARTITIONS, VERSIONS}
    assert await revision(url) == head


async def test_every_revision_steps_down_and_up_again(empty_database_url: str) -> None:
    """The stairway: each migration's downgrade undoes exactly its upgrade."""
    url = empty_database_url
    revisions = [line.split()[0] for line in reversed(migrations.history())]
    assert revisions

    for step in revisions:
        await asyncio.to_thread(migrations.upgrade, url, step)
        upgraded = await tables(url)
        await asyncio.to_thread(migrations.downgrade, url, "-1")
        await asyncio.to_thread(migrations.upgrade, url, step)

        assert await revision(url) == step
        assert await tables(url) == upgraded
    assert await differences(url) == []


async def test_the_migrated_schema_matches_the_tables(database_url: str) -> None:
    assert await differences(database_url) == []


async def test_the_request_logs_daily_partitions_are_no_difference(database_url: str) -> None:
    """Made by the application as days pass: autogenerate must not drop them."""
    engine = create_engine(database_url)
    try:
        await PostgresRequestLogStore(engine).prepare({date(2026, 3, 1), date(2026, 3, 2)})
    finally:
        await engine.dispose()

    assert "request_log_p20260301" in await tables(database_url)
    assert await differences(database_url) == []


async def test_the_comparison_sees_a_schema_that_does_not_match(empty_database_url: str) -> None:
    """Proof that the test above can fail: an empty database is missing both tables."""
    missing = await differences(empty_database_url)

    added = {change[1].name for change in missing if change[0] == "add_table"}
    assert added == OURS


async def test_the_events_monthly_partitions_are_no_difference(database_url: str) -> None:
    """Made by the application as months pass (the template made the coming ones)."""
    engine = create_engine(database_url)
    try:
        partitions = PostgresEventPartitions(engine, SystemClock(), months_ahead=1)
        await partitions.maintainer.prepare({date(2026, 3, 1)})
    finally:
        await engine.dispose()

    assert {"events_p202603", "events_default"} <= await tables(database_url)
    assert await differences(database_url) == []
