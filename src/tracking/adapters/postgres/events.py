"""Events in PostgreSQL: stored in one statement per batch, listed a keyset page at a time."""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from tracking.adapters.postgres.database import answer_lost, commit_unknown, driver_connection
from tracking.adapters.postgres.statements import Keyset
from tracking.application.ports import (
    Added,
    EventKey,
    EventReadModel,
    EventRepository,
    EventStore,
    UserKey,
)
from tracking.application.stream import Sequenced
from tracking.application.views import EventCriteria, EventView, Order
from tracking.domain.events import Event
from tracking.domain.privacy import UserHashKey

# One statement per batch, whatever its size. The batch travels as one JSON document, which
# msgspec encodes in C for a fifth of what asyncpg's binary arrays cost this process (and
# which keeps every instant exact: the binary codec turns the year 9999's last microsecond
# into infinity).
#
# `events` is partitioned by `occurred_at`, and PostgreSQL enforces uniqueness only on keys
# that hold the partitioning column: the key `(client_id, id)` is kept unique in
# `event_keys`, which is not partitioned. Each key goes in there first, `ON CONFLICT DO
# NOTHING`, and only the events whose key went in are inserted, in the same statement (so
# one transaction): the same key sent again with another time is still a duplicate. Keys go
# in in key order, so two batches holding the same keys lock them in one order and cannot
# deadlock; a batch meeting a key another transaction is adding waits for it, then skips it.
#
# The events stored are journaled in the same statement (migration 0010): their count added to
# their client's `stream_positions` row, which stays locked to the commit, and their ids, in
# the batch's order, in one `event_journal` row per client at the positions taken. Clients'
# rows are taken in client order, after every key went in (the aggregate needs them all), so
# two batches cannot deadlock on them either.
#
# The events of suppressed users are left out, in the same statement: each event carries its
# user's hash (`UserHashKey`), looked up in `suppressed_users` by its key. Reading that table
# takes its lock at the statement's start, before the statement's snapshot: `settle_writes`
# relies on it (`privacy.py`). One statement, where a lookup of its own was one more round trip
# for every write.
#
# Returns one row per journaled client (its first position and count), then one per event
# refused (its position in the batch) and one per event stored before this statement (a
# redelivery, a retry): the keys it found in `event_keys` and did not write.
INSERT_EVENTS = """
WITH batch AS (
    SELECT (e->>0)::uuid AS client_id, (e->>1)::uuid AS id, e->>2 AS user_id, e->>3 AS action,
           (e->>4)::timestamptz AS occurred_at, (e->>5)::timestamptz AS received_at,
           e->6 AS metadata, decode(e->>7, 'base64') AS user_hash, n
    FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS b(e, n)
), refused AS (
    SELECT b.n FROM batch AS b
    JOIN suppressed_users AS s ON s.client_id = b.client_id AND s.user_hash = b.user_hash
), kept AS (
    SELECT * FROM batch AS b WHERE NOT EXISTS (SELECT FROM refused AS r WHERE r.n = b.n)
), new_keys AS (
    INSERT INTO event_keys (client_id, id, occurred_at)
    SELECT client_id, id, occurred_at FROM kept ORDER BY client_id, id
    ON CONFLICT (client_id, id) DO NOTHING
    RETURNING client_id, id
), added AS (
    SELECT b.client_id, array_agg(b.id ORDER BY b.n) AS ids
    FROM kept AS b JOIN new_keys AS k ON k.client_id = b.client_id AND k.id = b.id
    GROUP BY b.client_id
), positions AS (
    INSERT INTO stream_positions AS p (client_id, last_position)
    SELECT client_id, cardinality(ids) FROM added ORDER BY client_id
    ON CONFLICT (client_id) DO UPDATE SET last_position = p.last_position + excluded.last_position
    RETURNING client_id, last_position
), journaled AS (
    INSERT INTO event_journal (client_id, last_position, first_position, ids)
    SELECT a.client_id, p.last_position, p.last_position - cardinality(a.ids) + 1, a.ids
    FROM added AS a JOIN positions AS p ON p.client_id = a.client_id
    RETURNING client_id, first_position, cardinality(ids)
), stored AS (
    INSERT INTO events (client_id, id, user_id, action, occurred_at, received_at, metadata)
    SELECT b.client_id, b.id, b.user_id, b.action, b.occurred_at, b.received_at, b.metadata
    FROM kept AS b JOIN new_keys AS k ON k.client_id = b.client_id AND k.id = b.id
)
SELECT 'journaled', client_id, first_position, cardinality FROM journaled
UNION ALL
SELECT 'refused', NULL, n, 1 FROM refused
UNION ALL
SELECT 'stored_before', NULL, b.n, 1 FROM kept AS b
WHERE NOT EXISTS (SELECT FROM new_keys AS k WHERE k.client_id = b.client_id AND k.id = b.id)
"""
_ENCODE = msgspec.json.Encoder().encode
# Metadata goes into the document as JSON, not as a string: decoded as `Raw`, it is checked to
# be exactly one JSON value, so no text can ever change the document's other fields.
_RAW = msgspec.json.Decoder(msgspec.Raw)


def batch_document(events: Sequence[Event], user_hashes: UserHashKey | None) -> str:
    """The batch as INSERT_EVENTS reads it, each event with its user's hash (the key
    remembers recent users, so a user is hashed once). Without `user_hashes`, no event
    carries a hash, so none is refused (the benchmarks' ceilings, some tests)."""
    hash_of = user_hashes.hash if user_hashes is not None else _no_hash
    return _ENCODE(
        [
            (
                e.client_id,
                e.id,
                e.user_id,
                e.action,
                e.occurred_at,
                e.received_at,
                _RAW.decode(e.metadata),
                hash_of(e.client_id, e.user_id),
            )
            for e in events
        ]
    ).decode()


def _no_hash(_client_id: UUID, _user_id: str) -> None:
    return None


class PostgresEventRepository(EventRepository):
    def __init__(self, connection: asyncpg.Connection, user_hashes: UserHashKey) -> None:
        self._connection = connection
        self._user_hashes = user_hashes

    async def add_new(self, events: Sequence[Event]) -> Added:
        document = batch_document(events, self._user_hashes)
        journaled: list[asyncpg.Record] = []
        stored_before: set[EventKey] = set()
        refused: set[UserKey] = set()
        skipped: set[EventKey] = set()
        for row in await self._connection.fetch(INSERT_EVENTS, document):
            if row[0] == "journaled":
                journaled.append(row)
                continue
            event = events[row[2] - 1]
            key = (event.client_id, event.id)
            skipped.add(key)
            if row[0] == "refused":
                refused.add((event.client_id, event.user_id))
            else:
                stored_before.add(key)
        return Added(stored_before, sequenced(events, skipped, journaled), refused)


class PostgresEventStore(EventStore):
    """One statement on a pooled connection, no BEGIN and no COMMIT: INSERT_EVENTS is atomic
    by itself, and the two round trips cost more CPU than its own work on small flushes."""

    def __init__(self, engine: AsyncEngine, user_hashes: UserHashKey) -> None:
        self._engine = engine
        self._user_hashes = user_hashes

    async def store_new(self, events: Sequence[Event]) -> Added:
        async with driver_connection(self._engine) as connection:
            try:
                return await PostgresEventRepository(connection, self._user_hashes).add_new(events)
            except Exception as error:
                if answer_lost(error):
                    raise commit_unknown(error) from error  # its own commit: it may have landed
                raise


def sequenced(
    events: Sequence[Event], skipped: set[EventKey], journaled: Sequence[Sequence[Any]]
) -> list[Sequenced]:
    """The stored events of each journaled client, in the batch's order, at its positions:
    all but the `skipped` (stored before, or refused)."""
    by_client: dict[UUID, list[Event]] = {}
    for event in events:
        if not skipped or (event.client_id, event.id) not in skipped:
            by_client.setdefault(event.client_id, []).append(event)
    return [Sequenced(row[1], row[2], by_client[row[1]]) for row in journaled]


_LISTING = Keyset(
    columns="id, user_id, action, occurred_at, received_at, metadata::text",
    table="events",
    keys=("occurred_at", "id"),
)


def list_events_sql(criteria: EventCriteria) -> tuple[str, list[Any]]:
    return _LISTING.page(
        [
            ("client_id = {}", criteria.client_id),
            ("user_id = {}", criteria.user_id),
            ("action = {}", criteria.action),
            ("occurred_at >= {}", criteria.occurred_from),
            ("occurred_at < {}", criteria.occurred_till),
        ],
        after=criteria.after,
        descending=criteria.order is Order.NEWEST_FIRST,
        limit=criteria.limit,
    )


class PostgresEventReadModel(EventReadModel):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def list_events(self, criteria: EventCriteria) -> list[EventView]:
        sql, values = list_events_sql(criteria)
        async with driver_connection(self._engine) as connection:
            rows = await connection.fetch(sql, *values)
        decode = msgspec.json.decode
        return [
            EventView(
                id=row[0],
                user_id=row[1],
                action=row[2],
                occurred_at=row[3],
                received_at=row[4],
                metadata=decode(row[5]),
            )
            for row in rows
        ]
