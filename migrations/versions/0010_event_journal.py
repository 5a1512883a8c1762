"""The event journal: every client's events in the order their transactions committed, so the
live stream can resume from any event it sent.

- `stream_positions (client_id, last_position)`: how many events of the client were ever
  committed. A transaction storing events adds their count to its client's row as its last
  statement; the row stays locked until it commits, so the next transaction of the same
  client takes the positions after it and commits after it. Positions are therefore dense and
  in commit order: once position p is committed, so is every one before it.
- `event_journal (client_id, last_position, first_position, ids, committed_at)`: one row per
  transaction and client, the ids of the events at `first_position .. last_position`. Kept for
  the replay horizon (`TRACKING_STREAM_REPLAY_HOURS`), not for the events' lifetime.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE stream_positions (client_id uuid NOT NULL, last_position bigint NOT NULL, "
        "CONSTRAINT pk_stream_positions PRIMARY KEY (client_id))"
    )
    op.execute(
        "CREATE TABLE event_journal (client_id uuid NOT NULL, last_position bigint NOT NULL, "
        "first_position bigint NOT NULL, ids uuid[] NOT NULL, "
        "committed_at timestamptz NOT NULL DEFAULT now(), "
        "CONSTRAINT pk_event_journal PRIMARY KEY (client_id, last_position))"
    )
    op.execute("CREATE INDEX ix_event_journal_committed_at ON event_journal (committed_at)")


def downgrade() -> None:
    op.execute("DROP TABLE event_journal")
    op.execute("DROP TABLE stream_positions")
