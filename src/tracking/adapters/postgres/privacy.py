"""Privacy in PostgreSQL: the user-hash key, suppressions (in the unit of work), erasure in
batches, the erasure log and a user's export, a keyset page at a time."""

import asyncio
import logging
import secrets
import time
from collections.abc import Collection
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from tracking.adapters.postgres.database import UNBOUNDED_SECONDS as LONG
from tracking.adapters.postgres.database import driver_connection
from tracking.adapters.postgres.statements import Keyset
from tracking.application.errors import Unavailable
from tracking.application.ports import (
    ErasureLogReadModel,
    ErasureStore,
    SuppressionRepository,
    UserDataReadModel,
    UserKey,
)
from tracking.application.privacy import (
    ErasedMetrics,
    ErasureEntry,
    ErasureView,
    ExportedEvent,
    ExportedMetric,
)
from tracking.domain.privacy import USER_HASH_KEY_MIN_BYTES, UserHashKey
from tracking.domain.windows import Window, WindowSize

log = logging.getLogger(__name__)

USER_HASH = "user_hash"
"""The `service_keys` row of the user-hash key."""
_MAKE_KEY = """
INSERT INTO service_keys (name, secret, created_at) VALUES ($1, $2, now())
ON CONFLICT (name) DO NOTHING
"""
_READ_KEY = "SELECT secret FROM service_keys WHERE name = $1"


async def user_hash_key(engine: AsyncEngine, configured: bytes | None) -> UserHashKey:
    """The configured key; else the one stored in `service_keys`, made by whichever process
    needs it first (insert, on conflict do nothing, then read): every process and restart
    agrees on it."""
    async with driver_connection(engine) as connection:
        stored = await connection.fetchval(_READ_KEY, USER_HASH)
        if configured is not None:
            if stored is not None:
                log.error(
                    "TRACKING_USER_HASH_KEY is set, but the database holds a user-hash key that "
                    "a process without it made: suppressions and erasures hashed under one are "
                    "not found under the other. Give every process the same key"
                )
            return UserHashKey(configured)
        if stored is None:
            await connection.execute(
                _MAKE_KEY, USER_HASH, secrets.token_bytes(USER_HASH_KEY_MIN_BYTES)
            )
            stored = await connection.fetchval(_READ_KEY, USER_HASH)
    return UserHashKey(bytes(stored))


# Writes look suppressions up in their insert (`events.py`, INSERT_EVENTS); this lookup is for
# a write whose events share keys, which asks first. Either takes the table's lock at the
# statement's start, before the statement's snapshot: `settle_writes` relies on it. An
# index-only scan of the key, by the batch's few clients and its users' hashes (a pair across
# the two lists is told from a real one below: the hash holds its client).
_SUPPRESSED_AMONG = """
SELECT client_id, user_hash FROM suppressed_users
WHERE client_id = ANY($1::uuid[]) AND user_hash = ANY($2::bytea[])
"""
_SUPPRESS = """
INSERT INTO suppressed_users (client_id, user_hash, suppressed_at) VALUES ($1, $2, $3)
ON CONFLICT (client_id, user_hash) DO NOTHING
"""
_LIFT = "DELETE FROM suppressed_users WHERE client_id = $1 AND user_hash = $2"


class PostgresSuppressionRepository(SuppressionRepository):
    def __init__(self, connection: asyncpg.Connection, key: UserHashKey) -> None:
        self._connection = connection
        self._key = key

    async def suppressed_among(self, users: Collection[UserKey]) -> set[UserKey]:
        hashed = {
            self._key.hash(client_id, user_id): (client_id, user_id) for client_id, user_id in users
        }
        clients = list({client_id for client_id, _ in users})
        rows = await self._connection.fetch(_SUPPRESSED_AMONG, clients, list(hashed))
        found = (hashed[bytes(row[1])] for row in rows)
        return {user for user in found if user[0] in clients}

    async def suppress(self, user: UserKey, at: datetime) -> None:
        await self._connection.execute(_SUPPRESS, user[0], self._key.hash(*user), at)

    async def lift(self, user: UserKey) -> bool:
        status = await self._connection.execute(_LIFT, user[0], self._key.hash(*user))
        return bool(int(status.rpartition(" ")[2]))


# The transactions that hold a lock on suppressed_users now (the writes that looked it up),
# in this database only: test databases copied from one template share its tables' OIDs.
_LOOKING = """
SELECT coalesce(array_agg(DISTINCT virtualtransaction), '{}')
FROM pg_locks
WHERE locktype = 'relation' AND relation = 'suppressed_users'::regclass
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND pid <> pg_backend_pid()
"""
_STILL_RUNNING = """
SELECT count(*) FROM pg_locks
WHERE locktype = 'virtualxid' AND granted AND virtualxid = ANY($1::text[])
"""
_SETTLE_SECONDS = 60.0
_DELETE_EVENTS = """
DELETE FROM events
WHERE client_id = $1 AND user_id = $2 AND (occurred_at, id) IN (
    SELECT occurred_at, id FROM events
    WHERE client_id = $1 AND user_id = $2
    ORDER BY occurred_at, id
    LIMIT $3
)
RETURNING occurred_at
"""
_USER_WINDOWS = """
SELECT window_hours, window_start FROM user_activity_metrics
WHERE client_id = $1 AND user_id = $2
"""
# The windows' log rows locked, in one order (as a computation locks its window's first): a
# computation in flight is waited for, one that starts later reads no erased event. A window
# never logged gets a placeholder row (computations 0), so that one being made is waited for
# too; the placeholders are deleted before the commit.
_LOCK_WINDOWS = """
INSERT INTO metric_windows (window_hours, window_start, window_end, computations)
SELECT h, s, s + make_interval(hours => h), 0
FROM unnest($1::int[], $2::timestamptz[]) AS w(h, s)
ORDER BY h, s
ON CONFLICT (window_hours, window_start) DO UPDATE SET window_end = EXCLUDED.window_end
RETURNING window_hours, window_start, computations = 0 AS placeholder
"""
_DELETE_METRICS = """
DELETE FROM user_activity_metrics WHERE client_id = $1 AND user_id = $2
RETURNING window_hours, window_start, event_count
"""
_CORRECT_TOTALS = """
UPDATE metric_windows AS w
SET users = w.users - d.users, events = w.events - d.events
FROM (
    SELECT h, s, count(*)::int AS users, sum(n)::bigint AS events
    FROM unnest($1::int[], $2::timestamptz[], $3::bigint[]) AS x(h, s, n)
    GROUP BY h, s
) AS d
WHERE w.window_hours = d.h AND w.window_start = d.s AND w.computed_at IS NOT NULL
"""
_DROP_PLACEHOLDERS = """
DELETE FROM metric_windows
WHERE (window_hours, window_start) IN (SELECT * FROM unnest($1::int[], $2::timestamptz[]))
  AND computations = 0 AND computed_at IS NULL
"""
_LOG = """
INSERT INTO erasures (client_id, id, user_hash, erased_by, erased_at, events_deleted,
                      metric_rows_deleted, windows_affected, suppressed)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""


class PostgresErasureStore(ErasureStore):
    def __init__(self, engine: AsyncEngine, key: UserHashKey) -> None:
        self._engine = engine
        self._key = key

    async def settle_writes(self) -> None:
        """A write's lookup locks suppressed_users before it takes its snapshot, and holds the
        lock to its commit: every write whose lookup missed a suppression committed before
        this call holds it now, and is waited for (polled: waiting on them in a lock queue
        would stall the writes behind)."""
        deadline = time.monotonic() + _SETTLE_SECONDS
        async with driver_connection(self._engine) as connection:
            looking = await connection.fetchval(_LOOKING)
            while looking and await connection.fetchval(_STILL_RUNNING, looking):
                if time.monotonic() > deadline:
                    raise Unavailable(
                        "writes_in_flight",
                        f"writes in flight did not end within {_SETTLE_SECONDS:.0f} s; the "
                        "suppression is in place: retry the erasure",
                    )
                await asyncio.sleep(0.005)

    async def delete_events(self, user: UserKey, limit: int) -> list[datetime]:
        async with driver_connection(self._engine) as connection:
            rows = await connection.fetch(_DELETE_EVENTS, user[0], user[1], limit)
        return [row[0] for row in rows]

    async def delete_metrics(self, user: UserKey, windows: Collection[Window]) -> ErasedMetrics:
        client_id, user_id = user
        async with driver_connection(self._engine) as connection, connection.transaction():
            # Waiting for a computation in flight may rightly take as long as it does.
            await connection.execute("SET LOCAL statement_timeout = 0", timeout=LONG)
            found = await connection.fetch(_USER_WINDOWS, client_id, user_id, timeout=LONG)
            keys = sorted(
                {(w.size.hours, w.start) for w in windows} | {(r[0], r[1]) for r in found}
            )
            locked = await connection.fetch(
                _LOCK_WINDOWS, [k[0] for k in keys], [k[1] for k in keys], timeout=LONG
            )
            gone = await connection.fetch(_DELETE_METRICS, client_id, user_id, timeout=LONG)
            if gone:
                await connection.execute(
                    _CORRECT_TOTALS,
                    [r[0] for r in gone],
                    [r[1] for r in gone],
                    [r[2] for r in gone],
                    timeout=LONG,
                )
            made = [r for r in locked if r[2]]
            if made:
                await connection.execute(
                    _DROP_PLACEHOLDERS, [r[0] for r in made], [r[1] for r in made], timeout=LONG
                )
        return ErasedMetrics(
            rows=len(gone),
            windows=frozenset(Window(start=r[1], size=WindowSize(r[0])) for r in gone),
        )

    async def log(self, entry: ErasureEntry) -> None:
        async with driver_connection(self._engine) as connection:
            await connection.execute(
                _LOG,
                entry.client_id,
                entry.id,
                self._key.hash(entry.client_id, entry.user_id),
                entry.erased_by,
                entry.erased_at,
                entry.events_deleted,
                entry.metric_rows_deleted,
                entry.windows_affected,
                entry.suppressed,
            )


_ERASURES = """
SELECT id, client_id, user_hash, erased_by, erased_at, events_deleted, metric_rows_deleted,
       windows_affected, suppressed
FROM erasures
WHERE ($1::uuid IS NULL OR client_id = $1)
  AND ($2::timestamptz IS NULL OR (erased_at, id) < ($2::timestamptz, $3::uuid))
ORDER BY erased_at DESC, id DESC
LIMIT $4
"""


class PostgresErasureLogReadModel(ErasureLogReadModel):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def list_erasures(
        self, client_id: UUID | None, after: tuple[datetime, UUID] | None, limit: int
    ) -> list[ErasureView]:
        at, key = after if after is not None else (None, None)
        async with driver_connection(self._engine) as connection:
            rows = await connection.fetch(_ERASURES, client_id, at, key, limit)
        return [
            ErasureView(
                id=row[0],
                client_id=row[1],
                user_hash=bytes(row[2]).hex(),
                erased_by=row[3],
                erased_at=row[4],
                events_deleted=row[5],
                metric_rows_deleted=row[6],
                windows_affected=row[7],
                suppressed=row[8],
            )
            for row in rows
        ]


_USER_EVENTS = Keyset(
    columns="id, user_id, action, occurred_at, received_at, metadata::text",
    table="events",
    keys=("occurred_at", "id"),
)
_USER_METRICS = Keyset(
    columns="user_id, window_hours, window_start, window_end, event_count, distinct_actions, "
    "action_counts::text, first_event_at, last_event_at, computed_at",
    table="user_activity_metrics",
    keys=("window_hours", "window_start"),
)


class PostgresUserDataReadModel(UserDataReadModel):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def events_of(
        self, user: UserKey, after: tuple[datetime, UUID] | None, limit: int
    ) -> list[ExportedEvent]:
        sql, values = _USER_EVENTS.page(
            [("client_id = {}", user[0]), ("user_id = {}", user[1])],
            after=after,
            descending=False,
            limit=limit,
        )
        async with driver_connection(self._engine) as connection:
            rows = await connection.fetch(sql, *values)
        return [
            ExportedEvent(
                id=row[0],
                user_id=row[1],
                action=row[2],
                occurred_at=row[3],
                received_at=row[4],
                metadata=msgspec.Raw(row[5].encode()),
            )
            for row in rows
        ]

    async def metrics_of(
        self, user: UserKey, after: tuple[int, datetime] | None, limit: int
    ) -> list[ExportedMetric]:
        sql, values = _USER_METRICS.page(
            [("client_id = {}", user[0]), ("user_id = {}", user[1])],
            after=after,
            descending=False,
            limit=limit,
        )
        async with driver_connection(self._engine) as connection:
            rows = await connection.fetch(sql, *values)
        decode = msgspec.json.decode
        return [
            ExportedMetric(
                user_id=row[0],
                window_hours=row[1],
                window_start=row[2],
                window_end=row[3],
                event_count=row[4],
                distinct_actions=row[5],
                action_counts=decode(row[6]),
                first_event_at=row[7],
                last_event_at=row[8],
                computed_at=row[9],
            )
            for row in rows
        ]
