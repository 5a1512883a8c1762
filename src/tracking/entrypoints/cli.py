"""The `tracking` command: serve the API and administer clients."""

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable
from typing import TypeVar
from uuid import UUID

import click

from tracking.application.commands.register_client import RegisterClient
from tracking.application.commands.rotate_api_key import RotateApiKey
from tracking.application.errors import ApplicationError
from tracking.application.principal import Principal
from tracking.application.queries.list_clients import ListClients
from tracking.bootstrap import Container, build_container
from tracking.domain.clients import DEFAULT_RATE_LIMIT_PER_MINUTE, Role
from tracking.entrypoints.http.app import create_app
from tracking.entrypoints.server import serve_http
from tracking.settings import Settings, SettingsError, load_settings, unknown_variables

T = TypeVar("T")

MEMORY_NOTICE = (
    "tracking: storage is memory: events and clients live in this process only and are "
    "lost when it stops (no other storage is available in this version)"
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Records what the users of our clients' applications do, exactly once."""


@main.command()
@click.option("--host", default=None, help="Interface to listen on  [default: 127.0.0.1]")
@click.option("--port", type=int, default=None, help="Port to listen on  [default: 8000]")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--storage", type=click.Choice(["memory"]), default=None, help="[default: memory]")
def serve(host: str | None, port: int | None, workers: int, storage: str | None) -> None:
    """Serve the HTTP API until SIGINT or SIGTERM, then finish in-flight requests and stop."""
    settings = _settings(storage=storage, http_host=host, http_port=port)
    if workers != 1:
        raise click.UsageError(
            "--workers: memory storage lives inside one process, so it runs one worker"
        )
    click.echo(MEMORY_NOTICE, err=True)
    if settings.jwt_secret is None:
        click.echo(
            "tracking: TRACKING_JWT_SECRET is not set: tokens are signed with a key made for "
            "this process and stop working when it stops",
            err=True,
        )
    serve_http(create_app(build_container(settings)), settings)


@main.group()
def clients() -> None:
    """Register and inspect clients, acting as the operator of this installation."""


@clients.command("create")
@click.argument("name")
@click.option("--admin", is_flag=True, help="Register an admin client.")
@click.option(
    "--rate-limit",
    type=int,
    default=DEFAULT_RATE_LIMIT_PER_MINUTE,
    show_default=True,
    help="Requests per minute.",
)
def create_client(name: str, *, admin: bool, rate_limit: int) -> None:
    """Register a client and print its API key (shown this once)."""
    container = _container()
    command = RegisterClient(
        actor=Principal.operator(),
        name=name,
        role=Role.ADMIN if admin else Role.CLIENT,
        rate_limit_per_minute=rate_limit,
    )
    registered = _run(container.register_client()(command))
    click.echo(f"id       {registered.client.id}")
    click.echo(f"name     {registered.client.name}")
    click.echo(f"role     {registered.client.role}")
    click.echo(f"api key  {registered.api_key}  (shown this once)")


@clients.command("list")
def list_clients() -> None:
    """Print every client, oldest first."""
    views = _run(_container().list_clients()(ListClients(actor=Principal.operator())))
    click.echo(f"{'id':36}  {'role':6}  {'active':6}  {'key':12}  name")
    for view in views:
        active = "yes" if view.active else "no"
        click.echo(f"{view.id}  {view.role:6}  {active:6}  {view.api_key_prefix:12}  {view.name}")


@clients.command("rotate")
@click.argument("client_id", type=click.UUID)
def rotate(client_id: UUID) -> None:
    """Give a client a new API key; the old one stops working at once."""
    command = RotateApiKey(actor=Principal.operator(), client_id=client_id)
    rotated = _run(_container().rotate_api_key()(command))
    click.echo(f"api key  {rotated.api_key}  (shown this once)")


def _settings(**overrides: object) -> Settings:
    for name in unknown_variables(os.environ):
        click.echo(f"tracking: ignoring {name}: it names no setting", err=True)
    try:
        settings = load_settings(os.environ, **overrides)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    logging.basicConfig(
        level=settings.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return settings


def _container() -> Container:
    settings = _settings()
    click.echo(MEMORY_NOTICE, err=True)
    return build_container(settings)


def _run(step: Awaitable[T]) -> T:
    async def run() -> T:
        return await step

    try:
        return asyncio.run(run())
    except ApplicationError as error:
        raise click.ClickException(error.detail) from None
