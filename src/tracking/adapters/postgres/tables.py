"""The schema, defined once: alembic's `target_metadata` and the adapters' tables."""

import re

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "pk": "pk_%(table_name)s",
    }
)

clients = Table(
    "clients",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("role", Text, nullable=False),
    Column("rate_limit_per_minute", Integer, nullable=False),
    Column("events_per_minute", Integer, nullable=False),
    Column("retention_days", Integer, nullable=True),
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("api_key_hash", Text, nullable=False, unique=True),
    Column("api_key_prefix", Text, nullable=False),
    CheckConstraint("role IN ('admin', 'client')", name="role"),
)

# Partitioned by UTC month of `occurred_at` (migration 0008): a month past retention goes
# with one DROP TABLE of its partition. The application makes the months ahead
# (`adapters/postgres/event_partitions.py`); `events_default` (made by the migration) takes
# any other time, so an insert never fails. The key holds the partitioning column, as
# PostgreSQL requires, after client_id, as every tenant table's does; with `user_id` and
# `action` carried, the stats read it alone (it was migration 0006's covering index).
# `(client_id, id)` is kept unique across partitions by `event_keys` below. No foreign key to
# clients: clients are never deleted (only deactivated), and a key check per inserted row
# would tax the hottest path for nothing.
events = Table(
    "events",
    metadata,
    Column("client_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("metadata", JSONB, nullable=False),
    PrimaryKeyConstraint(
        "client_id", "occurred_at", "id", postgresql_include=["user_id", "action"]
    ),
    # Listing one user's events by time (and erasing them).
    Index(None, "client_id", "user_id", "occurred_at", "id"),
    # Scanning a time range across clients (metrics windows): BRIN, because events arrive
    # roughly in time order, and it costs inserts next to nothing.
    Index("ix_events_occurred_at_brin", "occurred_at", postgresql_using="brin"),
    postgresql_partition_by="RANGE (occurred_at)",
)

# One row per stored event, not partitioned: its primary key is what makes `(client_id,
# id)` unique across the events' partitions. Written in the events' insert statement first
# (`ON CONFLICT DO NOTHING`; only the events whose key went in are inserted), deleted with
# the events by a statement trigger on `events` (any DELETE: an erasure, retention), and
# after a month's partition is dropped, in batches (`event_key_trims`). `occurred_at` says
# which partition holds it; its BRIN index finds a month's keys.
event_keys = Table(
    "event_keys",
    metadata,
    Column("client_id", Uuid, primary_key=True),
    Column("id", Uuid, primary_key=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Index("ix_event_keys_occurred_at_brin", "occurred_at", postgresql_using="brin"),
)

# Ranges of time whose events went with their dropped partition and whose keys are still
# being trimmed: written in the dropping transaction, removed with the range's last key.
event_key_trims = Table(
    "event_key_trims",
    metadata,
    Column("start_at", DateTime(timezone=True), primary_key=True),
    Column("end_at", DateTime(timezone=True), nullable=False),
)

# The event journal (the live stream's replay): each client's count of events ever committed,
# taken by every transaction that stores some as its last statement, so positions are dense
# and in commit order; and per transaction and client, the ids at its positions. Kept for the
# stream's replay horizon only.
stream_positions = Table(
    "stream_positions",
    metadata,
    Column("client_id", Uuid, primary_key=True),
    Column("last_position", BigInteger, nullable=False),
)
event_journal = Table(
    "event_journal",
    metadata,
    Column("client_id", Uuid, primary_key=True),
    Column("last_position", BigInteger, primary_key=True),
    Column("first_position", BigInteger, nullable=False),
    Column("ids", ARRAY(Uuid), nullable=False),
    Column("committed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_event_journal_committed_at", "committed_at"),
)

# One row per (client, user, window) with at least one event; a window's rows are replaced
# whole when it is (re)computed.
user_activity_metrics = Table(
    "user_activity_metrics",
    metadata,
    Column("client_id", Uuid, primary_key=True),
    Column("window_hours", SmallInteger, primary_key=True),
    Column("window_start", DateTime(timezone=True), primary_key=True),
    Column("user_id", Text, primary_key=True),
    Column("window_end", DateTime(timezone=True), nullable=False),
    Column("event_count", Integer, nullable=False),
    Column("distinct_actions", Integer, nullable=False),
    Column("action_counts", JSONB, nullable=False),
    Column("first_event_at", DateTime(timezone=True), nullable=False),
    Column("last_event_at", DateTime(timezone=True), nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False),
    # Replacing one window's rows; one user's metrics over time.
    Index("ix_user_activity_metrics_window", "window_hours", "window_start"),
    Index("ix_user_activity_metrics_user", "client_id", "user_id", "window_hours", "window_start"),
)

# The run log: a window computed, with its figures (computed_at null while being made).
metric_windows = Table(
    "metric_windows",
    metadata,
    Column("window_hours", SmallInteger, primary_key=True),
    Column("window_start", DateTime(timezone=True), primary_key=True),
    Column("window_end", DateTime(timezone=True), nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=True),
    Column("kind", Text, nullable=True),
    Column("users", Integer, nullable=True),
    Column("events", BigInteger, nullable=True),
    Column("duration_ms", Float, nullable=True),
    Column("computations", Integer, nullable=False),
)

# Stale marks: a client's rows of a closed window that a late event (or an import) changed,
# waiting for the next run to recompute them. Per client, so one tenant's late history
# recomputes its own rows only; client_id leads the key, as in every tenant table.
stale_windows = Table(
    "stale_windows",
    metadata,
    Column("client_id", Uuid, primary_key=True),
    Column("window_hours", SmallInteger, primary_key=True),
    Column("window_start", DateTime(timezone=True), primary_key=True),
    Index("ix_stale_windows_window", "window_hours", "window_start"),
)

# The request log: every authenticated /api request, partitioned by UTC day of its arrival,
# so a day past retention goes with one DROP TABLE of its partition (the application makes
# partitions ahead and drops old ones: `adapters/postgres/request_log.py`). The key holds the
# partitioning column, as PostgreSQL requires, after client_id, as every tenant table's does.
request_log = Table(
    "request_log",
    metadata,
    Column("client_id", Uuid, primary_key=True),
    Column("requested_at", DateTime(timezone=True), primary_key=True),
    Column("id", Uuid, primary_key=True),
    Column("method", Text, nullable=False),
    Column("route", Text, nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("request_id", Text, nullable=False),
    # Across clients by time (top clients, the admin's all-clients days): BRIN, since rows
    # arrive in time order, and it costs the writes next to nothing.
    Index("ix_request_log_requested_at_brin", "requested_at", postgresql_using="brin"),
    postgresql_partition_by="RANGE (requested_at)",
)

# A user whose later events are refused, as a keyed hash of the user id, never in clear.
suppressed_users = Table(
    "suppressed_users",
    metadata,
    Column("client_id", Uuid, primary_key=True),
    Column("user_hash", LargeBinary, primary_key=True),
    Column("suppressed_at", DateTime(timezone=True), nullable=False),
)

# The erasure log: who erased which (hashed) user when, and the counts; not the data.
erasures = Table(
    "erasures",
    metadata,
    Column("client_id", Uuid, primary_key=True),
    Column("id", Uuid, primary_key=True),
    Column("user_hash", LargeBinary, nullable=False),
    Column("erased_by", Uuid, nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=False),
    Column("events_deleted", BigInteger, nullable=False),
    Column("metric_rows_deleted", BigInteger, nullable=False),
    Column("windows_affected", Integer, nullable=False),
    Column("suppressed", Boolean, nullable=False),
    Index("ix_erasures_erased_at", "erased_at"),
)

# Secrets made once by whichever process first needs them and shared by every process (the
# user-hash key), so hashes agree across replicas and restarts.
service_keys = Table(
    "service_keys",
    metadata,
    Column("name", Text, primary_key=True),
    Column("secret", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

_PARTITIONS = re.compile(r"request_log_p\d{8}|events_p\d{6}|events_default", re.ASCII)


def managed_by_migrations(name: str | None, kind: str, _parents: object) -> bool:
    """Alembic's `include_name`: what autogenerate compares. The request log's daily
    partitions and the events' monthly ones are the application's, made and dropped as time
    passes, not the migrations': left out, autogenerate would write a `drop_table` for each.
    The events' default partition is the migration's, but a partition all the same: its
    columns and indexes are its parent's."""
    return not (kind == "table" and name is not None and _PARTITIONS.fullmatch(name))
