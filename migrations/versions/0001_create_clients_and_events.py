"""Create the clients and events tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("api_key_hash", sa.Text(), nullable=False),
        sa.Column("api_key_prefix", sa.Text(), nullable=False),
        sa.CheckConstraint("role IN ('admin', 'client')", name=op.f("ck_clients_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
        sa.UniqueConstraint("api_key_hash", name=op.f("uq_clients_api_key_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_clients_name")),
    )
    op.create_table(
        "events",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "id", name=op.f("pk_events")),
    )
    op.create_index(
        op.f("ix_events_client_id_user_id_occurred_at_id"),
        "events",
        ["client_id", "user_id", "occurred_at", "id"],
    )
    op.create_index(
        op.f("ix_events_client_id_occurred_at_id"), "events", ["client_id", "occurred_at", "id"]
    )
    op.create_index(
        "ix_events_occurred_at_brin", "events", ["occurred_at"], postgresql_using="brin"
    )


def downgrade() -> None:
    op.drop_index("ix_events_occurred_at_brin", table_name="events")
    op.drop_index(op.f("ix_events_client_id_occurred_at_id"), table_name="events")
    op.drop_index(op.f("ix_events_client_id_user_id_occurred_at_id"), table_name="events")
    op.drop_table("events")
    op.drop_table("clients")
