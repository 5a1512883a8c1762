"""The schema's migrations (alembic), run from code: `tracking migrate` and the embedded start."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

import tracking
from tracking.adapters.postgres.database import async_url


def migrations_dir() -> Path:
    """Next to the package when installed from a wheel, at the repository's top otherwise."""
    packaged = Path(tracking.__file__).parent / "_migrations"
    if packaged.is_dir():
        return packaged
    return Path(tracking.__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def head() -> str | None:
    return ScriptDirectory.from_config(alembic_config("postgresql://")).get_current_head()


def history() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config("postgresql://"))
    return [f"{rev.revision}  {rev.doc}" for rev in script.walk_revisions()]


def current(url: str) -> str | None:
    """The revision the database is at (None for an empty database). Like every function
    here it runs its own event loop: call it from synchronous code (or a thread)."""
    return asyncio.run(_current(url))


async def _current(url: str) -> str | None:
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()
