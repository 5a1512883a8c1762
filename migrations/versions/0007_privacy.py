"""Privacy and retention: suppressed users, the erasure log, the service's keys, and a
client's retention period.

- `suppressed_users`: a user whose later events are refused, stored as a keyed hash of the
  user id (HMAC-SHA256 under the `user_hash` key below), never the id in clear.
- `erasures`: the erasure log, one row per erasure: who asked, when, the counts; not the data
  (the user is the same keyed hash).
- `service_keys`: secrets the service makes once and every process shares (the user-hash
  key), so a hash made by one replica matches another's, across restarts.
- `clients.retention_days`: how long a client's events are kept (null: for ever).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("clients", sa.Column("retention_days", sa.Integer(), nullable=True))
    op.create_table(
        "suppressed_users",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("user_hash", sa.LargeBinary(), nullable=False),
        sa.Column("suppressed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "user_hash", name="pk_suppressed_users"),
    )
    op.create_table(
        "erasures",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_hash", sa.LargeBinary(), nullable=False),
        sa.Column("erased_by", sa.Uuid(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("events_deleted", sa.BigInteger(), nullable=False),
        sa.Column("metric_rows_deleted", sa.BigInteger(), nullable=False),
        sa.Column("windows_affected", sa.Integer(), nullable=False),
        sa.Column("suppressed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "id", name="pk_erasures"),
    )
    op.create_index("ix_erasures_erased_at", "erasures", ["erased_at"])
    op.create_table(
        "service_keys",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_service_keys"),
    )


def downgrade() -> None:
    op.drop_table("service_keys")
    op.drop_index("ix_erasures_erased_at", table_name="erasures")
    op.drop_table("erasures")
    op.drop_table("suppressed_users")
    op.drop_column("clients", "retention_days")
