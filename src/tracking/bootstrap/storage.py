"""The storage, made ready before anything is served from it: the embedded PostgreSQL started
(and migrated), or an external one reached and checked to be at the schema's head."""

import asyncio
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncEngine

from tracking.adapters.postgres import migrations
from tracking.adapters.postgres.database import create_engine, wait_until_reachable
from tracking.adapters.postgres.embedded import EmbeddedPostgres
from tracking.settings import Settings

log = logging.getLogger(__name__)
_FIRST_START = "; this first start initialises its data directory and may take several seconds"


class StartupError(Exception):
    """What keeps the service from starting, in one line an operator can act on."""


def notice(settings: Settings) -> str | None:
    """What the operator should know of memory storage as the service starts. (Where the
    embedded PostgreSQL lives is said as it starts, in `reachable_database`.)"""
    if settings.storage_kind == "memory":
        return (
            "storage is memory: events and clients live in this process only and are lost "
            "when it stops"
        )
    return None


async def reachable_database(settings: Settings) -> AsyncIterator[str | None]:
    """The database's URL once it answers (None for memory storage). The embedded server is
    started here, or joined when another `tracking` process runs it, and stopped when this
    resource is shut down."""
    kind = settings.storage_kind
    if kind == "memory":
        yield None
    elif kind == "embedded":
        embedded = EmbeddedPostgres(settings.data_dir)
        first = not (embedded.pgdata / "PG_VERSION").exists()
        log.info(
            "starting the embedded PostgreSQL in %s%s",
            embedded.pgdata,
            _FIRST_START if first else "",
        )
        try:
            url = await asyncio.to_thread(embedded.start)
        except Exception as error:  # noqa: BLE001 - whatever pgserver raised: one clear line
            raise StartupError(
                f"cannot start the embedded PostgreSQL in {embedded.pgdata}: {error}"
            ) from None
        try:
            yield url
        finally:
            await asyncio.to_thread(embedded.stop)
    else:
        url = settings.database_url or ""
        try:
            await wait_until_reachable(
                url,
                retries=settings.db_connect_retries,
                connect_timeout=settings.db_connect_timeout_seconds,
            )
        except ConnectionError as error:
            raise StartupError(f"cannot reach the database at {where(url)}: {error}") from None
        yield url


async def ready_database(url: str | None, settings: Settings) -> str | None:
    """The reachable database, at the schema's head: the embedded one is migrated to it; an
    external one must be there already (`tracking migrate` runs once per release)."""
    if url is None:
        return None
    at, head = await migrations.current(url), migrations.head()
    if settings.storage_kind == "embedded":
        if at != head:
            log.info(
                "migrating the embedded PostgreSQL's schema from %s to %s", at or "nothing", head
            )
            await asyncio.to_thread(migrations.upgrade, url)
        return url
    if at != head:
        raise StartupError(
            f"the database schema is at {at or 'nothing'}, this version needs {head}: "
            "run `tracking migrate` first"
        )
    return url


async def opened_engine(url: str | None, settings: Settings) -> AsyncIterator[AsyncEngine]:
    if url is None:
        raise StartupError("PostgreSQL storage without a database")
    engine = create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        connect_timeout=settings.db_connect_timeout_seconds,
        statement_timeout_ms=settings.db_statement_timeout_ms,
    )
    try:
        yield engine
    finally:
        await engine.dispose()


def where(url: str) -> str:
    """Host and database of a URL, never its password."""
    parts = urlsplit(url)
    host = parts.hostname or dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p).get(
        "host", "localhost"
    )
    return f"{host}{parts.path}"
