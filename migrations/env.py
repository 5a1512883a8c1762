"""Alembic's environment: async, against `tracking`'s metadata."""

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from tracking.adapters.postgres.database import async_url
from tracking.adapters.postgres.tables import managed_by_migrations, metadata

config = context.config
target_metadata = metadata


def url() -> str:
    configured = config.get_main_option("sqlalchemy.url") or os.environ.get("TRACKING_DATABASE_URL")
    if not configured:
        raise SystemExit("set TRACKING_DATABASE_URL to the database to migrate")
    return async_url(configured)


def run_migrations_offline() -> None:
    context.configure(
        url=url(),
        target_metadata=target_metadata,
        literal_binds=True,
        include_name=managed_by_migrations,
    )
    with context.begin_transaction():
        context.run_migrations()


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_name=managed_by_migrations,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async() -> None:
    engine = create_async_engine(url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
elif (connection := config.attributes.get("connection")) is not None:
    run(connection)
else:
    asyncio.run(run_async())
