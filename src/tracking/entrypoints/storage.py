"""Getting the storage ready before anything serves from it: memory, the embedded PostgreSQL
(started and migrated here), or an external PostgreSQL (reachable and at the schema's head)."""

import asyncio
import contextlib
from collections.abc import Iterator
from urllib.parse import urlsplit

import click
import msgspec

from tracking.adapters.postgres import migrations
from tracking.adapters.postgres.database import wait_until_reachable
from tracking.adapters.postgres.embedded import EmbeddedPostgres
from tracking.settings import Settings

MEMORY_NOTICE = (
    "tracking: storage is memory: events and clients live in this process only and are "
    "lost when it stops"
)


@contextlib.contextmanager
def ready_storage(settings: Settings, *, for_migrations: bool = False) -> Iterator[Settings]:
    """The settings to build the container with, once their storage can be used: migrated to
    head (embedded) or checked to be at head (external), unless it is about to be migrated."""
    kind = settings.storage_kind
    if kind == "memory":
        click.echo(MEMORY_NOTICE, err=True)
        yield settings
    elif kind == "embedded":
        embedded = EmbeddedPostgres(settings.data_dir)
        try:
            url = embedded.start()
        except Exception as error:  # noqa: BLE001 - whatever pgserver raised: one clear line
            raise click.ClickException(
                f"cannot start the embedded PostgreSQL in {embedded.pgdata}: {error}"
            ) from None
        try:
            if not for_migrations:
                migrations.upgrade(url)
            click.echo(
                f"tracking: storage is the embedded PostgreSQL in {embedded.pgdata}", err=True
            )
            yield msgspec.structs.replace(settings, storage="postgres", database_url=url)
        finally:
            embedded.stop()
    else:
        assert settings.database_url is not None  # noqa: S101 - the settings insist on it
        reach(settings)
        if not for_migrations:
            require_head(settings.database_url)
        yield settings


def reach(settings: Settings) -> None:
    url = settings.database_url or ""
    try:
        asyncio.run(
            wait_until_reachable(
                url,
                retries=settings.db_connect_retries,
                connect_timeout=settings.db_connect_timeout_seconds,
            )
        )
    except ConnectionError as error:
        raise click.ClickException(f"cannot reach the database at {where(url)}: {error}") from None


def require_head(url: str) -> None:
    at, head = migrations.current(url), migrations.head()
    if at != head:
        raise click.ClickException(
            f"the database schema is at {at or 'nothing'}, this version needs {head}: "
            "run `tracking migrate` first"
        )


def where(url: str) -> str:
    """Host and database of a URL, never its password."""
    parts = urlsplit(url)
    host = parts.hostname or dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p).get(
        "host", "localhost"
    )
    return f"{host}{parts.path}"
