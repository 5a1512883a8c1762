"""`tracking clients ...`: administer clients as the installation's operator."""

from uuid import UUID

import click

from tracking.application.commands.register_client import RegisterClient
from tracking.application.commands.rotate_api_key import RotateApiKey
from tracking.application.principal import Principal
from tracking.application.queries.list_clients import ListClients
from tracking.domain.clients import DEFAULT_RATE_LIMIT_PER_MINUTE, Role
from tracking.entrypoints.cli.common import load, with_handlers


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
    registered = with_handlers(load(), lambda h: h.register_client(command))
    click.echo(f"id       {registered.client.id}")
    click.echo(f"name     {registered.client.name}")
    click.echo(f"role     {registered.client.role}")
    click.echo(f"api key  {registered.api_key}  (shown this once)")


@clients.command("list")
def list_clients() -> None:
    """Print every client, oldest first."""
    query = ListClients(actor=Principal.operator())
    views = with_handlers(load(), lambda h: h.list_clients(query))
    click.echo(f"{'id':36}  {'role':6}  {'active':6}  {'key':12}  name")
    for view in views:
        active = "yes" if view.active else "no"
        click.echo(f"{view.id}  {view.role:6}  {active:6}  {view.api_key_prefix:12}  {view.name}")


@clients.command("rotate")
@click.argument("client_id", type=click.UUID)
def rotate(client_id: UUID) -> None:
    """Give a client a new API key; the old one stops working at once."""
    command = RotateApiKey(actor=Principal.operator(), client_id=client_id)
    rotated = with_handlers(load(), lambda h: h.rotate_api_key(command))
    click.echo(f"api key  {rotated.api_key}  (shown this once)")
