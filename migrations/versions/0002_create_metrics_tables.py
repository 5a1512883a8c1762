"""Create the user activity metrics and the metric windows run log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_activity_metrics",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("window_hours", sa.SmallInteger(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("distinct_actions", sa.Integer(), nullable=False),
        sa.Column("action_counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("first_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "client_id",
            "window_hours",
            "window_start",
            "user_id",
            name=op.f("pk_user_activity_metrics"),
        ),
    )
    op.create_index(
        "ix_user_activity_metrics_window",
        "user_activity_metrics",
        ["window_hours", "window_start"],
    )
    op.create_index(
        "ix_user_activity_metrics_user",
        "user_activity_metrics",
        ["client_id", "user_id", "window_hours", "window_start"],
    )
    op.create_table(
        "metric_windows",
        sa.Column("window_hours", sa.SmallInteger(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("kind", sa.Text(), nullable=True),
        sa.Column("users", sa.Integer(), nullable=True),
        sa.Column("events", sa.BigInteger(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("computations", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("window_hours", "window_start", name=op.f("pk_metric_windows")),
    )


def downgrade() -> None:
    op.drop_table("metric_windows")
    op.drop_index(
        "ix_user_activity_metrics_user",
        table_name="user_activity_metrics",
    )
    op.drop_index(
        "ix_user_activity_metrics_window",
        table_name="user_activity_metrics",
    )
    op.drop_table("user_activity_metrics")
