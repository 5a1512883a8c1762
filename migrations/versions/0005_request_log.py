"""The request log: every authenticated /api request, in daily partitions by its arrival.

Partitions are not made here: the application makes each day's ahead (today and the next
days) and drops those past `TRACKING_REQUEST_LOG_DAYS`. The downgrade drops the table with
every partition it has.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "request_log",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("route", sa.Text(), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("request_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "requested_at", "id", name="pk_request_log"),
        postgresql_partition_by="RANGE (requested_at)",
    )
    op.create_index(
        "ix_request_log_requested_at_brin",
        "request_log",
        ["requested_at"],
        postgresql_using="brin",
    )


def downgrade() -> None:
    op.drop_table("request_log")
