"""`tracking clients ...`: administer clients as the installation's operator."""

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID

import click

from tracking.application.commands.ensure_admin import AdminChange, EnsureAdmin
from tracking.application.commands.register_client import RegisterClient
from tracking.application.commands.rotate_api_key import RotateApiKey
from tracking.application.errors import ApplicationError
from tracking.application.principal import Principal
from tracking.application.queries.list_clients import ListClients
from tracking.bootstrap import Container, build_container, close
from tracking.domain.clients import DEFAULT_RATE_LIMIT_PER_MINUTE, Role
from tracking.entrypoints.storage import ready_storage
from tracking.settings import Settings, SettingsError, load_settings, unknown_variables

T = TypeVar("T")


@click.group()
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
    command = RegisterClient(
        actor=Principal.operator(),
        name=name,
        role=Role.ADMIN if admin else Role.CLIENT,
        rate_limit_per_minute=rate_limit,
    )
    registered = with_storage(lambda c: c.register_client()(command))
    click.echo(f"id       {registered.client.id}")
    click.echo(f"name     {registered.client.name}")
    click.echo(f"role     {registered.client.role}")
    click.echo(f"api key  {registered.api_key}  (shown this once)")


@clients.command("list")
def list_clients() -> None:
    """Print every client, oldest first."""
    views = with_storage(lambda c: c.list_clients()(ListClients(actor=Principal.operator())))
    click.echo(f"{'id':36}  {'role':6}  {'active':6}  {'key':12}  name")
    for view in views:
        active = "yes" if view.active else "no"
        click.echo(f"{view.id}  {view.role:6}  {active:6}  {view.api_key_prefix:12}  {view.name}")


@clients.command("rotate")
@click.argument("client_id", type=click.UUID)
def rotate(client_id: UUID) -> None:
    """Give a client a new API key; the old one stops working at once."""
    command = RotateApiKey(actor=Principal.operator(), client_id=client_id)
    rotated = with_storage(lambda c: c.rotate_api_key()(command))
    click.echo(f"api key  {rotated.api_key}  (shown this once)")


def load(**overrides: object) -> Settings:
    """The settings, or one line naming the variable that is wrong."""
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


def with_storage(use: Callable[[Container], Awaitable[T]]) -> T:
    with ready_storage(load()) as settings:
        return run(build_container(settings), use)


def ensure_admin(container: Container) -> None:
    """Before serving: make sure an operator can reach the admin API, printing a new key."""
    settings = container.settings()
    command = EnsureAdmin(api_key=settings.admin_api_key)
    ensured = run(container, lambda c: c.ensure_admin()(command))
    if ensured.change is AdminChange.CREATED and ensured.new_api_key is not None:
        click.echo(
            "tracking: created the admin client; its API key, shown this once:\n"
            f"  {ensured.new_api_key}",
            err=True,
        )


def run(container: Container, use: Callable[[Container], Awaitable[T]]) -> T:
    async def body() -> T:
        try:
            return await use(container)
        finally:
            await close(container)

    try:
        return asyncio.run(body())
    except ApplicationError as error:
        raise click.ClickException(error.detail) from None
