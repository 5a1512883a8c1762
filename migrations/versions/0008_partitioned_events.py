"""Events partitioned by UTC month of `occurred_at`, with their keys kept unique apart.

- `events` becomes a table partitioned by range of `occurred_at`: one partition per UTC
  month that has rows (`events_pYYYYMM`, the names the application makes its months ahead
  with) and `events_default` for any other time, so an insert never fails for want of a
  partition. Its primary key is `(client_id, occurred_at, id)` carrying `user_id` and
  `action` (it replaces migration 0006's covering index of the same key); the user index and
  the BRIN index stay.
- `event_keys (client_id, id, occurred_at)`, primary key `(client_id, id)`: PostgreSQL keeps
  unique only keys that hold the partitioning column, so the events' key is kept unique
  here, one row per event. A statement trigger on `events` deletes the keys of deleted
  events, so any DELETE (an erasure, retention) leaves the two in step.

Every row is copied (the table is rewritten: the upgrade holds `events` for as long as that
takes); the downgrade copies them back into the single table of 0007.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = "client_id, id, user_id, action, occurred_at, received_at, metadata"
_TABLE = """
    client_id uuid NOT NULL,
    id uuid NOT NULL,
    user_id text NOT NULL,
    action text NOT NULL,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    metadata jsonb NOT NULL
"""
_MONTHS = """
DO $$
DECLARE month timestamp;
BEGIN
    FOR month IN
        SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC') FROM events_0007
        WHERE isfinite(occurred_at)  -- infinity (an older version stored some) stays in default
    LOOP
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
            'events_p' || to_char(month, 'YYYYMM'),
            month::text || '+00',
            (month + interval '1 month')::text || '+00'
        );
    END LOOP;
END
$$
"""
_KEYS_OF_DELETED = """
CREATE FUNCTION event_keys_of_deleted_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM event_keys AS k USING deleted_events AS d
    WHERE k.client_id = d.client_id AND k.id = d.id;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute("ALTER TABLE events RENAME TO events_0007")
    op.execute("ALTER TABLE events_0007 RENAME CONSTRAINT pk_events TO pk_events_0007")
    for index in ("client_id_user_id_occurred_at_id", "client_id_occurred_at_id"):
        op.execute(f"ALTER INDEX ix_events_{index} RENAME TO ix_events_0007_{index}")
    op.execute("ALTER INDEX ix_events_occurred_at_brin RENAME TO ix_events_0007_brin")

    # Loaded first, indexed after: one index build per partition beats row-by-row updates.
    op.execute(f"CREATE TABLE events ({_TABLE}) PARTITION BY RANGE (occurred_at)")
    op.execute("CREATE TABLE events_default PARTITION OF events DEFAULT")
    op.execute(_MONTHS)
    op.execute(f"INSERT INTO events ({_COLUMNS}) SELECT {_COLUMNS} FROM events_0007")  # noqa: S608
    op.execute(
        "ALTER TABLE events ADD CONSTRAINT pk_events "
        "PRIMARY KEY (client_id, occurred_at, id) INCLUDE (user_id, action)"
    )
    op.execute(
        "CREATE INDEX ix_events_client_id_user_id_occurred_at_id "
        "ON events (client_id, user_id, occurred_at, id)"
    )
    op.execute("CREATE INDEX ix_events_occurred_at_brin ON events USING brin (occurred_at)")

    op.execute(
        "CREATE TABLE event_keys (client_id uuid NOT NULL, id uuid NOT NULL, "
        "occurred_at timestamptz NOT NULL)"
    )
    op.execute(
        "INSERT INTO event_keys (client_id, id, occurred_at) "
        "SELECT client_id, id, occurred_at FROM events_0007 ORDER BY client_id, id"
    )
    op.execute("ALTER TABLE event_keys ADD CONSTRAINT pk_event_keys PRIMARY KEY (client_id, id)")
    op.execute("DROP TABLE events_0007")

    op.execute(_KEYS_OF_DELETED)
    op.execute(
        "CREATE TRIGGER event_keys_of_deleted_events AFTER DELETE ON events "
        "REFERENCING OLD TABLE AS deleted_events FOR EACH STATEMENT "
        "EXECUTE FUNCTION event_keys_of_deleted_events()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER event_keys_of_deleted_events ON events")
    op.execute("DROP FUNCTION event_keys_of_deleted_events()")
    op.execute("ALTER TABLE events RENAME TO events_0008")
    op.execute("ALTER TABLE events_0008 RENAME CONSTRAINT pk_events TO pk_events_0008")
    op.execute(
        "ALTER INDEX ix_events_client_id_user_id_occurred_at_id "
        "RENAME TO ix_events_0008_client_id_user_id_occurred_at_id"
    )
    op.execute("ALTER INDEX ix_events_occurred_at_brin RENAME TO ix_events_0008_brin")

    op.execute(f"CREATE TABLE events ({_TABLE})")
    op.execute(
        f"INSERT INTO events ({_COLUMNS}) "  # noqa: S608
        f"SELECT {_COLUMNS} FROM events_0008 ORDER BY client_id, id"
    )
    op.execute("ALTER TABLE events ADD CONSTRAINT pk_events PRIMARY KEY (client_id, id)")
    op.execute(
        "CREATE INDEX ix_events_client_id_user_id_occurred_at_id "
        "ON events (client_id, user_id, occurred_at, id)"
    )
    op.execute(
        "CREATE INDEX ix_events_client_id_occurred_at_id "
        "ON events (client_id, occurred_at, id) INCLUDE (user_id, action)"
    )
    op.execute("CREATE INDEX ix_events_occurred_at_brin ON events USING brin (occurred_at)")
    op.execute("DROP TABLE events_0008")  # and every partition with it
    op.execute("DROP TABLE event_keys")
