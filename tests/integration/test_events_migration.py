"""Migration 0008 on a populated database: every row of the single `events` table goes into
its month's partition with its key, duplicates stay duplicates, and the downgrade puts every
row back."""

import asyncio
import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import asyncpg

from tests.databases import dsn
from tracking.adapters.postgres import migrations
from tracking.adapters.postgres.events import INSERT_EVENTS, batch_document
from tracking.domain.events import Event

# Instants as text: exact, the calendar's last microsecond and infinity included.
_ROWS = """
SELECT client_id, id, user_id, action, occurred_at::text, received_at::text, metadata::text
FROM events
"""
TIMES = [
    "2025-10-31T23:59:59.999999Z",
    "2025-11-01T00:00:00Z",
    "2025-12-15T08:00:00Z",
    "2026-02-28T12:00:00+05:00",
    "1970-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
    "infinity",  # as an older version's binary codec could store the instant above
]


async def populated(url: str) -> list[tuple[Any, ...]]:
    """Rows of several months (the calendar's last instant among them), two clients sharing
    ids; inserted as 0007's table holds them."""
    shared_ids = [uuid4() for _ in TIMES]
    rows = [
        (client, event_id, f"u{n}", "view", at, received, json.dumps({"n": n}))
        for client in (uuid4(), uuid4())
        for n, (event_id, at) in enumerate(zip(shared_ids, TIMES, strict=True))
        for received in ["2026-12-01T00:00:00Z"]
    ]
    connection = await asyncpg.connect(dsn(url))
    try:
        await connection.executemany(
            "INSERT INTO events VALUES "
            "($1, $2, $3, $4, $5::text::timestamptz, $6::text::timestamptz, $7::jsonb)",
            rows,
        )
        return sorted(tuple(r) for r in await connection.fetch(_ROWS))
    finally:
        await connection.close()


async def test_the_upgrade_keeps_every_row_and_the_dedup_and_the_downgrade_too(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    await asyncio.to_thread(migrations.upgrade, url, "0007")
    before = await populated(url)

    await asyncio.to_thread(migrations.upgrade, url, "0008")

    connection = await asyncpg.connect(dsn(url))
    try:
        assert sorted(tuple(r) for r in await connection.fetch(_ROWS)) == before
        homes = await connection.fetch("SELECT DISTINCT tableoid::regclass::text FROM events")
        assert sorted(r[0] for r in homes) == [
            "events_default",  # the infinity row only
            "events_p197001",
            "events_p202510",
            "events_p202511",
            "events_p202512",
            "events_p202602",
            "events_p999912",
        ]
        keys = await connection.fetch("SELECT client_id, id, occurred_at::text FROM event_keys")
        assert sorted(tuple(k) for k in keys) == sorted((r[0], r[1], r[4]) for r in before)

    finally:
        await connection.close()

    await asyncio.to_thread(migrations.upgrade, url, "head")  # the statement's own tables

    connection = await asyncpg.connect(dsn(url))
    try:
        # Each key sent again, at another time (another month): a duplicate, stored once.
        again = [
            Event(
                id=row[1],
                client_id=row[0],
                user_id="again",
                action="view",
                occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
                received_at=datetime(2026, 1, 1, tzinfo=UTC),
                metadata="{}",
            )
            for row in before
        ]
        answered = await connection.fetch(INSERT_EVENTS, batch_document(again, None))
        assert sorted(r[2] for r in answered) == list(range(1, len(again) + 1))  # positions
        assert {r[0] for r in answered} == {"stored_before"}  # none journaled
        assert sorted(tuple(r) for r in await connection.fetch(_ROWS)) == before
    finally:
        await connection.close()

    await asyncio.to_thread(migrations.downgrade, url, "0007")

    connection = await asyncpg.connect(dsn(url))
    try:
        assert sorted(tuple(r) for r in await connection.fetch(_ROWS)) == before
        duplicate = before[0]
        status = await connection.execute(
            "INSERT INTO events VALUES ($1, $2, 'x', 'y', now(), now(), '{}') "
            "ON CONFLICT (client_id, id) DO NOTHING",
            duplicate[0],
            duplicate[1],
        )
        assert status == "INSERT 0 0"
        assert await connection.fetchval("SELECT to_regclass('event_keys')") is None
    finally:
        await connection.close()
