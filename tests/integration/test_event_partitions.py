"""The events in PostgreSQL: monthly partitions made ahead by the application (and by
several processes at once without a clash), a default partition for any other time whose rows
move into their month as it is made, months dropped whole and their keys trimmed after, and the key
`(client_id, id)` unique across partitions under concurrent writers."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg
import pytest

from tests.conftest import ADMIN_KEY, JWT_SECRET
from tests.databases import dsn
from tests.integration.http_helpers import register, two_processes
from tracking.adapters.postgres.event_partitions import PostgresEventPartitions
from tracking.adapters.system import SystemClock, UuidV7Generator
from tracking.application.ports import KeyTrim
from tracking.bootstrap import Container, resolved, shut_down
from tracking.domain.events import Event
from tracking.settings import Settings

ids = UuidV7Generator()
MONTH = date(2031, 1, 1)
IN_MONTH = datetime(2031, 1, 15, tzinfo=UTC)


@pytest.fixture
def storage_name() -> str:
    return "postgres"


async def fetch(database_url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(dsn(database_url))
    try:
        return list(await connection.fetch(sql, *args))
    finally:
        await connection.close()


async def where_stored(database_url: str, client_id: UUID) -> dict[UUID, tuple[str, datetime]]:
    """Each of the client's events: the partition holding it, and its time."""
    rows = await fetch(
        database_url,
        "SELECT id, tableoid::regclass::text AS part, occurred_at FROM events WHERE client_id = $1",
        client_id,
    )
    return {row["id"]: (row["part"], row["occurred_at"]) for row in rows}


async def keys(database_url: str, client_id: UUID) -> dict[UUID, datetime]:
    rows = await fetch(
        database_url, "SELECT id, occurred_at FROM event_keys WHERE client_id = $1", client_id
    )
    return {row["id"]: row["occurred_at"] for row in rows}


def event(client_id: UUID, at: datetime, event_id: UUID | None = None) -> Event:
    return Event(
        id=event_id or ids.new_id(),
        client_id=client_id,
        user_id="u",
        action="a",
        occurred_at=at,
        received_at=at,
        metadata="{}",
    )


@pytest.fixture
async def partitions(container: Container) -> PostgresEventPartitions:
    engine = await resolved(container.engine())
    return PostgresEventPartitions(engine, SystemClock(), months_ahead=2)


async def write(container: Container, events: list[Event]) -> set[UUID]:
    """The ids this write stored (not duplicates)."""
    writer = await resolved(container.store_writer())
    stored = await writer.write(events)
    return {e.id for e in events} - {event_id for _, event_id in stored.duplicates}


async def test_the_coming_months_are_made_with_the_key_and_indexes(
    partitions: PostgresEventPartitions, database_url: str
) -> None:
    await partitions.upkeep()
    this_month = datetime.now(UTC).date().replace(day=1)

    months = await partitions.maintainer.partitions()
    rows = await fetch(
        database_url,
        "SELECT pg_get_expr(c.relpartbound, c.oid) AS bound, "
        "array(SELECT indexdef FROM pg_indexes WHERE tablename = c.relname) AS indexes "
        "FROM pg_class AS c WHERE c.relname = $1",
        f"events_p{this_month:%Y%m}",
    )

    assert months[0] == this_month
    assert len(months) == 3
    (row,) = rows
    assert row["bound"].startswith(f"FOR VALUES FROM ('{this_month.isoformat()} 00:00:00+00')")
    indexes = row["indexes"]
    assert any(
        "UNIQUE" in i and "(client_id, occurred_at, id) INCLUDE (user_id, action)" in i
        for i in indexes
    )
    assert any("(client_id, user_id, occurred_at, id)" in i for i in indexes)
    assert any("USING brin (occurred_at)" in i for i in indexes)


async def test_an_event_of_a_month_without_partition_lands_in_the_default_and_moves_in_later(
    container: Container, partitions: PostgresEventPartitions, database_url: str
) -> None:
    client = uuid4()
    inside, after = event(client, IN_MONTH), event(client, datetime(2031, 2, 1, tzinfo=UTC))
    assert await write(container, [inside, after]) == {inside.id, after.id}
    assert {p for p, _ in (await where_stored(database_url, client)).values()} == {"events_default"}

    assert await partitions.maintainer.prepare({MONTH}) == [MONTH]

    stored = await where_stored(database_url, client)
    assert stored[inside.id] == ("events_p203101", IN_MONTH)
    assert stored[after.id][0] == "events_default"  # the next month's partition is not made
    assert await keys(database_url, client) == {inside.id: IN_MONTH, after.id: after.occurred_at}
    # Still one key, wherever its event moved.
    assert await write(container, [inside._replace(occurred_at=after.occurred_at)]) == set()


async def test_processes_making_the_same_months_at_once_do_not_clash(
    container: Container, database_url: str
) -> None:
    engine = await resolved(container.engine())
    makers = [PostgresEventPartitions(engine, SystemClock(), months_ahead=2) for _ in range(4)]
    months = {date(2032, m, 1) for m in range(1, 7)}

    made = await asyncio.gather(*(m.maintainer.prepare(months) for m in makers))

    assert sorted(month for each in made for month in each) == sorted(months)


async def trim_keys(container: Container, limit: int = 1000) -> list[KeyTrim]:
    """Retention's trimming of dropped months' keys, a batch per transaction, until done."""
    uow = await resolved(container.uow())
    trims: list[KeyTrim] = []
    while not trims or not trims[-1].done:
        async with uow() as work:
            trims.append(await work.retention.trim_event_keys(limit))
            await work.commit()
    return trims


async def test_dropping_a_month_drops_its_events_then_its_keys_are_trimmed(
    container: Container, partitions: PostgresEventPartitions, database_url: str
) -> None:
    await partitions.maintainer.prepare({MONTH, date(2031, 2, 1)})
    client = uuid4()
    old = [event(client, IN_MONTH + timedelta(minutes=n)) for n in range(5)]
    kept = event(client, datetime(2031, 2, 2, tzinfo=UTC))
    await write(container, [*old, kept])

    dropped = await partitions.drop_before(date(2031, 2, 1))

    assert MONTH in dropped
    assert set(await where_stored(database_url, client)) == {kept.id}
    # Until trimmed, the month's keys stay, and the same event is still a duplicate.
    assert set(await keys(database_url, client)) == {kept.id, *(e.id for e in old)}
    assert await write(container, old[:1]) == set()
    assert (datetime(2031, 1, 1, tzinfo=UTC),) in await fetch(
        database_url, "SELECT start_at FROM event_key_trims"
    )

    trims = await trim_keys(container, limit=2)

    assert [t.removed for t in trims if t.removed] == [2, 2, 1]
    assert set(await keys(database_url, client)) == {kept.id}
    assert await fetch(database_url, "SELECT start_at FROM event_key_trims") == []
    # Its keys gone, the same event sent again is stored again.
    assert await write(container, old[:1]) == {old[0].id}


async def test_a_trim_keeps_the_keys_of_events_stored_in_the_range_since(
    container: Container, partitions: PostgresEventPartitions, database_url: str
) -> None:
    """After its month is dropped, an event of that month lands in the default partition
    (or a partition made again): its key is not an orphan, and stays."""
    await partitions.maintainer.prepare({MONTH})
    client = uuid4()
    gone = event(client, IN_MONTH)
    await write(container, [gone])
    await partitions.drop_before(date(2031, 2, 1))
    late = event(client, IN_MONTH + timedelta(days=1))
    assert await write(container, [late]) == {late.id}

    await trim_keys(container)

    assert set(await keys(database_url, client)) == {late.id}
    assert set(await where_stored(database_url, client)) == {late.id}
    assert await write(container, [late]) == set()


async def test_the_upkeep_makes_the_months_of_rows_in_the_default_partition(
    container: Container, partitions: PostgresEventPartitions, database_url: str
) -> None:
    """Imported history of a past month gets its own partition at the next upkeep, so
    retention can drop it whole like any month."""
    client = uuid4()
    imported = event(client, datetime(2019, 6, 3, tzinfo=UTC))
    await write(container, [imported])
    assert (await where_stored(database_url, client))[imported.id][0] == "events_default"

    made = await partitions.upkeep()

    assert date(2019, 6, 1) in made
    assert (await where_stored(database_url, client))[imported.id][0] == "events_p201906"


async def test_a_delete_from_events_deletes_the_keys_too(
    container: Container, database_url: str
) -> None:
    """An erasure or retention deletes rows from `events` alone: the keys follow, so the
    same event sent again is stored again, as before the key table existed."""
    client = uuid4()
    gone, kept = event(client, IN_MONTH), event(client, IN_MONTH)
    await write(container, [gone, kept])

    await fetch(
        database_url, "DELETE FROM events WHERE client_id = $1 AND id = $2", client, gone.id
    )

    assert set(await keys(database_url, client)) == {kept.id}
    assert await write(container, [gone, kept]) == {gone.id}


@pytest.fixture
async def second(database_url: str) -> AsyncIterator[Container]:
    """Another process's container over the same database: its own pool."""
    built = Container(settings=Settings(storage="postgres", database_url=database_url))
    yield built
    await shut_down(built)


async def test_two_writers_sending_the_same_ids_with_other_times_store_each_once(
    container: Container, second: Container, partitions: PostgresEventPartitions, database_url: str
) -> None:
    """The same keys at once from two pools, each with its own time (another month, or the
    default partition): each key is stored once, by exactly one of the two writes."""
    await partitions.maintainer.prepare({MONTH})
    client = uuid4()
    for _ in range(5):
        mine = [event(client, IN_MONTH) for _ in range(200)]
        theirs = [e._replace(occurred_at=datetime(2035, 6, 1, tzinfo=UTC)) for e in mine]

        one, other = await asyncio.gather(
            write(container, mine), write(second, list(reversed(theirs)))
        )

        assert one | other == {e.id for e in mine}
        assert not one & other
    stored = await where_stored(database_url, client)
    assert len(stored) == 1000
    assert stored.keys() == (await keys(database_url, client)).keys()


async def test_two_api_processes_answer_one_stored_and_one_duplicate_per_id(
    database_url: str, redis_url: str
) -> None:
    """Over HTTP: the same ids sent at once to two processes, each with another time."""

    def settings() -> Settings:
        return Settings(
            storage="postgres",
            database_url=database_url,
            redis_url=redis_url,
            admin_api_key=ADMIN_KEY,
            jwt_secret=JWT_SECRET,
            event_max_age_days=36_500,
        )

    first, other = Container(settings=settings()), Container(settings=settings())
    async with two_processes(first, other) as (one, two):
        tenant = await register(one, {"X-API-Key": ADMIN_KEY})
        event_ids = [str(uuid4()) for _ in range(40)]

        def body(event_id: str, at: str) -> dict[str, str]:
            return {"id": event_id, "user_id": "u", "action": "a", "occurred_at": at}

        answers = await asyncio.gather(
            *(
                http.post("/api/event", headers=tenant.headers, json=body(event_id, at))
                for event_id in event_ids
                for http, at in ((one, "2025-01-02T00:00:00Z"), (two, "2025-03-04T00:00:00Z"))
            )
        )

    statuses: dict[str, list[str]] = {}
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
        statuses.setdefault(answer.json()["id"], []).append(answer.json()["status"])
    assert all(sorted(s) == ["duplicate", "stored"] for s in statuses.values())
    assert len(await where_stored(database_url, UUID(tenant.id))) == len(event_ids)


async def test_the_next_month_is_made_before_it_starts(
    partitions: PostgresEventPartitions,
) -> None:
    """The hourly upkeep keeps this month and the next ones made: a month never starts
    without its partition while the service runs."""
    await partitions.upkeep()
    soon = (datetime.now(UTC) + timedelta(days=31)).date().replace(day=1)

    assert soon in await partitions.maintainer.partitions()
