"""The stats' covering index: `(client_id, occurred_at, id)` also carries `user_id` and
`action`, so a day's counts, distinct users and top actions read the index alone (an
index-only scan), never the rows. It replaces the index of the same key rather than joining
it: the listing by time uses it as before, and an insert still updates as many indexes, each
entry ~20 bytes wider.

Built CONCURRENTLY, outside the migration's transaction, so ingest goes on while it builds; a
build cut short leaves an invalid index, which the next run drops and builds again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ix_events_client_id_occurred_at_id"
_BUILDING = f"{_NAME}_building"


def _replace(include: str) -> None:
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_BUILDING}")
        op.execute(
            f"CREATE INDEX CONCURRENTLY {_BUILDING} ON events (client_id, occurred_at, id){include}"
        )
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_NAME}")
        op.execute(f"ALTER INDEX {_BUILDING} RENAME TO {_NAME}")


def upgrade() -> None:
    _replace(" INCLUDE (user_id, action)")


def downgrade() -> None:
    _replace("")
