"""Stale marks per client and window, instead of one flag per window.

A late event used to mark its whole window stale, so its recomputation rewrote every tenant's
rows of it. Each mark is now one client's rows of one window. The window flags are carried
over as marks for every client with events or rows in those windows.

Run-log rows of windows before 1970 are removed: such windows could only come from events
with times the service no longer accepts, and the driver reads the first instant of year 1
as -infinity, without an offset.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stale_windows",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("window_hours", sa.SmallInteger(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "client_id", "window_hours", "window_start", name=op.f("pk_stale_windows")
        ),
    )
    op.create_index("ix_stale_windows_window", "stale_windows", ["window_hours", "window_start"])
    op.execute("DELETE FROM metric_windows WHERE window_start < '1970-01-01T00:00:00Z'")
    op.execute(
        """
        INSERT INTO stale_windows (client_id, window_hours, window_start)
        SELECT DISTINCT e.client_id, w.window_hours, w.window_start
        FROM metric_windows w
        JOIN events e ON e.occurred_at >= w.window_start AND e.occurred_at < w.window_end
        WHERE w.stale
        UNION
        SELECT m.client_id, w.window_hours, w.window_start
        FROM metric_windows w
        JOIN user_activity_metrics m
          ON m.window_hours = w.window_hours AND m.window_start = w.window_start
        WHERE w.stale
        """
    )
    # A window only ever touched by a late event, never computed, is now just its marks.
    op.execute("DELETE FROM metric_windows WHERE computed_at IS NULL")
    op.drop_column("metric_windows", "stale")


def downgrade() -> None:
    op.add_column(
        "metric_windows",
        sa.Column("stale", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.alter_column("metric_windows", "stale", server_default=None)
    op.execute(
        """
        INSERT INTO metric_windows (window_hours, window_start, window_end, stale, computations)
        SELECT DISTINCT window_hours, window_start,
               window_start + make_interval(hours => window_hours::int), true, 0
        FROM stale_windows
        ON CONFLICT (window_hours, window_start) DO UPDATE SET stale = true
        """
    )
    op.drop_index("ix_stale_windows_window", table_name="stale_windows")
    op.drop_table("stale_windows")
