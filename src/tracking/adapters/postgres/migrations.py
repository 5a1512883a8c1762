"""The schema's migrations (alembic), run from code: `tracking migrate` and the embedded start."""

import asyncio
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

import tracking
from tracking.adapters.postgres.database import driver_url


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
    """Runs alembic, which runs its own event loop: call it from synchronous code (or a thread)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def head() -> str | None:
    return ScriptDirectory.from_config(alembic_config("postgresql://")).get_current_head()


def history() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config("postgresql://"))
    return [f"{rev.revision}  {rev.doc}" for rev in script.walk_revisions()]


async def current(url: str) -> str | None:
    """The revision the database is at (None for an empty database)."""
    connection = await asyncpg.connect(driver_url(url))
    try:
        exists = await connection.fetchval("SELECT to_regclass('alembic_version') IS NOT NULL")
        if not exists:
            return None
        revision: str | None = await connection.fetchval("SELECT version_num FROM alembic_version")
        return revision
    finally:
        await connection.close()


class AlembicSchema:
    """The schema of one database, moved by alembic's migrations: `tracking migrate`."""

    def __init__(self, url: str) -> None:
        self._url = url

    async def upgrade(self, revision: str = "head") -> None:
        await asyncio.to_thread(upgrade, self._url, revision)

    async def downgrade(self, revision: str) -> None:
        await asyncio.to_thread(downgrade, self._url, revision)

    async def current(self) -> str | None:
        return await current(self._url)

    def head(self) -> str | None:
        return head()
