"""The `tracking` command: serve the API, migrate the schema, administer clients."""

import os
import secrets
import sys

import click
import msgspec
import uvicorn
from alembic.util import CommandError

from tracking.adapters.postgres import migrations
from tracking.bootstrap import build_container
from tracking.entrypoints.cli_clients import clients, ensure_admin, load
from tracking.entrypoints.cli_consume import consume
from tracking.entrypoints.cli_metrics import calculate_metrics
from tracking.entrypoints.http.app import create_app
from tracking.entrypoints.server import GRACEFUL_SHUTDOWN_SECONDS, serve_http
from tracking.entrypoints.storage import ready_storage

STORAGES = click.Choice(["embedded", "postgres", "memory"])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Records what the users of our clients' applications do, exactly once."""


main.add_command(clients)
main.add_command(calculate_metrics)
main.add_command(consume)


@main.command()
@click.option("--host", default=None, help="Interface to listen on  [default: 127.0.0.1]")
@click.option("--port", type=int, default=None, help="Port to listen on  [default: 8000]")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--storage", type=STORAGES, default=None, help="[default: embedded]")
def serve(host: str | None, port: int | None, workers: int, storage: str | None) -> None:
    """Serve the HTTP API until SIGINT or SIGTERM, then finish in-flight requests and stop."""
    settings = load(storage=storage, http_host=host, http_port=port)
    if workers > 1 and settings.storage_kind == "memory":
        raise click.UsageError(
            "--workers: memory storage lives inside one process, so it runs one worker"
        )
    if settings.jwt_secret is None:
        click.echo(
            "tracking: TRACKING_JWT_SECRET is not set: tokens are signed with a key made for "
            "this run and stop working when it stops",
            err=True,
        )
        settings = msgspec.structs.replace(settings, jwt_secret=secrets.token_urlsafe(48))
    with ready_storage(settings) as ready:
        container = build_container(ready)
        ensure_admin(container)
        if workers == 1:
            serve_http(create_app(container), ready)
            return
        # Each worker builds its own app from the environment, with this run's storage.
        os.environ.update(
            TRACKING_STORAGE="postgres",
            TRACKING_DATABASE_URL=ready.database_url or "",
            TRACKING_JWT_SECRET=ready.jwt_secret or "",
        )
        uvicorn.run(
            "tracking.entrypoints.http.asgi:app_from_environment",
            factory=True,
            workers=workers,
            host=ready.http_host,
            port=ready.http_port,
            log_config=None,
            access_log=ready.access_log,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )


@main.command()
@click.argument(
    "action", type=click.Choice(["upgrade", "downgrade", "current", "history"]), default="upgrade"
)
@click.argument("revision", required=False)
@click.option("--storage", type=STORAGES, default=None, help="[default: embedded]")
def migrate(action: str, revision: str | None, storage: str | None) -> None:
    """Move the schema to REVISION (upgrade: head by default; downgrade: required, e.g. -1 or
    base), or show where it is (current) and what exists (history)."""
    settings = load(storage=storage)
    if settings.storage_kind == "memory":
        raise click.UsageError("memory storage has no schema to migrate")
    if action == "history":
        click.echo("\n".join(migrations.history()))
        return
    if action == "downgrade" and revision is None:
        raise click.UsageError("downgrade needs a REVISION, e.g. -1 or base")
    with ready_storage(settings, for_migrations=True) as ready:
        url = ready.database_url or ""
        try:
            if action == "upgrade":
                migrations.upgrade(url, revision or "head")
            elif action == "downgrade":
                migrations.downgrade(url, revision or "")
        except CommandError as error:
            raise click.ClickException(f"migrate {action}: {error}") from None
        at, head = migrations.current(url), migrations.head()
        state = "at head" if at == head else f"head is {head}"
        click.echo(f"schema at {at or 'nothing (empty database)'} ({state})")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
