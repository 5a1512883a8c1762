"""The request log in PostgreSQL: one partition per UTC day, each with the parent's key and
index, made by the application (and by several processes at once without a clash), dropped
as whole tables."""

import asyncio
from datetime import date, timedelta

import asyncpg
import pytest

from tests.databases import dsn
from tests.integration.request_log_helpers import Log, log_of
from tracking.bootstrap import Container

FIRST = date(2031, 1, 30)


@pytest.fixture
def storage_name() -> str:
    return "postgres"


async def partitions(database_url: str) -> dict[str, list[str]]:
    """Each partition of request_log with its indexes' definitions."""
    connection = await asyncpg.connect(dsn(database_url))
    try:
        rows = await connection.fetch(
            """
            SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound,
                   array(SELECT indexdef FROM pg_indexes WHERE tablename = c.relname
                         ORDER BY indexname) AS indexes
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'request_log'::regclass ORDER BY c.relname
            """
        )
    finally:
        await connection.close()
    return {row["relname"]: [row["bound"], *row["indexes"]] for row in rows}


@pytest.fixture
async def log(container: Container) -> Log:
    return await log_of(container)


async def test_a_days_partition_holds_that_utc_day_with_the_key_and_index(
    log: Log, database_url: str
) -> None:
    await log.store.prepare({FIRST})

    (bound, *indexes) = (await partitions(database_url))["request_log_p20310130"]

    assert bound == ("FOR VALUES FROM ('2031-01-30 00:00:00+00') TO ('2031-01-31 00:00:00+00')")
    assert any("UNIQUE" in i and "(client_id, requested_at, id)" in i for i in indexes)
    assert any("USING brin (requested_at)" in i for i in indexes)


async def test_processes_making_the_same_days_at_once_do_not_clash(
    container: Container, database_url: str
) -> None:
    days = {FIRST + timedelta(days=n) for n in range(5)}
    logs = [await log_of(container) for _ in range(4)]

    await asyncio.gather(*(each.store.prepare(days) for each in logs))

    assert len(await partitions(database_url)) == 5


async def test_dropping_drops_the_partitions_before_the_day(log: Log, database_url: str) -> None:
    await log.store.prepare({FIRST + timedelta(days=n) for n in range(4)})

    dropped = await log.store.drop_before(FIRST + timedelta(days=2))

    assert dropped == [FIRST, FIRST + timedelta(days=1)]
    assert sorted(await partitions(database_url)) == [
        "request_log_p20310201",
        "request_log_p20310202",
    ]
