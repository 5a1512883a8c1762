"""Event keys found by time, so a month's events can be dropped whole and its keys trimmed
after, in batches, instead of in the dropping transaction.

- A BRIN index on `event_keys (occurred_at)`: keys are appended about in time order, so a
  few block ranges hold a month's keys, and the index costs an insert next to nothing.
- `event_key_trims (start_at, end_at)`: the ranges of time whose events were dropped with
  their partition and whose keys are still to be trimmed. Written in the dropping
  transaction, removed when its last key is gone: a crash between the two leaves the work
  on record for the next run.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_event_keys_occurred_at_brin ON event_keys USING brin (occurred_at)")
    op.execute(
        "CREATE TABLE event_key_trims (start_at timestamptz NOT NULL, "
        "end_at timestamptz NOT NULL, CONSTRAINT pk_event_key_trims PRIMARY KEY (start_at))"
    )


def downgrade() -> None:
    op.execute("DROP TABLE event_key_trims")
    op.execute("DROP INDEX ix_event_keys_occurred_at_brin")
