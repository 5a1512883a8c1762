"""A client's quota of events ingested per minute, beside its rate limit of requests.

Existing clients get the default quota (60000). The server default is dropped after, as
everywhere else: the application always writes the column.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "clients",
        sa.Column("events_per_minute", sa.Integer(), nullable=False, server_default="60000"),
    )
    op.alter_column("clients", "events_per_minute", server_default=None)


def downgrade() -> None:
    op.drop_column("clients", "events_per_minute")
