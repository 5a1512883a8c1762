"""`tracking clients ...`: administer clients as the installation's operator."""

from uuid import UUID

import click

from tracking.application.commands.register_client import RegisterClient
from tracking.application.commands.rotate_api_key import RotateApiKey
from tracking.application.commands.update_client import UpdateClient
from tracking.application.principal import Principal
from tracking.application.queries.list_clients import ListClients
from tracking.application.views import ClientView, client_view
from tracking.domain.clients import Role
from tracking.entrypoints.cli.common import load, with_handlers

_RATE_LIMIT_HELP = "Requests per minute."
_EVENTS_HELP = "Events ingested per minute (a batch of N counts N)."


@click.group()
def clients() -> None:
    """Register, inspect and change clients, acting as the operator of this installation."""


@clients.command("create")
@click.argument("name")
@click.option("--admin", is_flag=True, help="Register an admin client.")
@click.option(
    "--rate-limit", type=int, help=f"{_RATE_LIMIT_HELP}  [default: the installation's, 1000]"
)
@click.option(
    "--events-per-minute", type=int, help=f"{_EVENTS_HELP}  [default: the installation's, 60000]"
)
def create_client(
    name: str, *, admin: bool, rate_limit: int | None, events_per_minute: int | None
) -> None:
    """Register a client and print its API key (shown this once)."""
    command = RegisterClient(
        actor=Principal.operator(),
        name=name,
        role=Role.ADMIN if admin else Role.CLIENT,
        rate_limit_per_minute=rate_limit,
        events_per_minute=events_per_minute,
    )
    registered = with_handlers(load(), lambda h: h.register_client(command))
    _echo(client_view(registered.client))
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


@clients.command("update")
@click.argument("client_id", type=click.UUID)
@click.option("--rate-limit", type=int, help=_RATE_LIMIT_HELP)
@click.option("--events-per-minute", type=int, help=_EVENTS_HELP)
@click.option("--role", type=click.Choice([role.value for role in Role]), help="Its role.")
@click.option(
    "--active/--inactive",
    default=None,
    help="Reactivate the client (its key works again), or deactivate it.",
)
def update(
    client_id: UUID,
    *,
    rate_limit: int | None,
    events_per_minute: int | None,
    role: str | None,
    active: bool | None,
) -> None:
    """Change a client's limits, role or activity; its next request is served under them.
    The last active admin can be neither demoted nor deactivated."""
    if rate_limit is None and events_per_minute is None and role is None and active is None:
        raise click.UsageError(
            "name something to change: --rate-limit, --events-per-minute, --role, "
            "--active or --inactive"
        )
    command = UpdateClient(
        actor=Principal.operator(),
        client_id=client_id,
        rate_limit_per_minute=rate_limit,
        events_per_minute=events_per_minute,
        role=None if role is None else Role(role),
        active=active,
    )
    _echo(with_handlers(load(), lambda h: h.update_client(command)))


def _echo(view: ClientView) -> None:
    click.echo(f"id       {view.id}")
    click.echo(f"name     {view.name}")
    click.echo(f"role     {view.role}")
    click.echo(f"active   {'yes' if view.active else 'no'}")
    click.echo(f"requests {view.rate_limit_per_minute} per minute")
    click.echo(f"events   {view.events_per_minute} per minute")
