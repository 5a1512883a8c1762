"""`tracking clients ...`: administer clients as the installation's operator."""

from collections.abc import Callable
from typing import TYPE_CHECKING
from uuid import UUID

import click

from tracking.domain.clients import MAX_RETENTION_DAYS, Role
from tracking.entrypoints.cli.common import FromEnvironment, environment_default, load

if TYPE_CHECKING:
    from tracking.application.views import ClientView

_RATE_LIMIT_HELP = "Requests per minute."
_EVENTS_HELP = "Events ingested per minute (a batch of N counts N)."
_DAYS = click.IntRange(1, MAX_RETENTION_DAYS)
_RETENTION_HELP = (
    f"Keep its events this many days (1-{MAX_RETENTION_DAYS}), by when they occurred: "
    "`tracking retention` removes older ones."
)


def _installations(setting: str) -> Callable[[], str]:
    shown = environment_default(setting)
    return lambda: f"the installation's, {shown()}"


@click.group()
def clients() -> None:
    """Register, inspect and change clients, acting as the operator of this installation."""


@clients.command("create")
@click.argument("name")
@click.option("--admin", is_flag=True, help="Register an admin client.")
@click.option(
    "--rate-limit",
    type=int,
    cls=FromEnvironment,
    shown=_installations("rate_limit_per_minute"),
    help=_RATE_LIMIT_HELP,
)
@click.option(
    "--events-per-minute",
    type=int,
    cls=FromEnvironment,
    shown=_installations("events_per_minute"),
    help=_EVENTS_HELP,
)
@click.option(
    "--retention-days",
    type=_DAYS,
    default=None,
    show_default="none: kept for ever",
    help=_RETENTION_HELP,
)
def create_client(
    name: str,
    *,
    admin: bool,
    rate_limit: int | None,
    events_per_minute: int | None,
    retention_days: int | None,
) -> None:
    """Register a client and print its API key (shown this once)."""
    settings = load()
    from tracking.application.commands.register_client import RegisterClient  # noqa: PLC0415
    from tracking.application.principal import Principal  # noqa: PLC0415
    from tracking.application.views import client_view  # noqa: PLC0415
    from tracking.entrypoints.cli.running import with_handlers  # noqa: PLC0415

    command = RegisterClient(
        actor=Principal.operator(),
        name=name,
        role=Role.ADMIN if admin else Role.CLIENT,
        rate_limit_per_minute=rate_limit,
        events_per_minute=events_per_minute,
        retention_days=retention_days,
    )
    registered = with_handlers(settings, lambda h: h.register_client(command))
    _echo(client_view(registered.client))
    click.echo(f"api key  {registered.api_key}  (shown this once)")


@clients.command("list")
def list_clients() -> None:
    """Print every client, oldest first."""
    settings = load()
    from tracking.application.principal import Principal  # noqa: PLC0415
    from tracking.application.queries.list_clients import ListClients  # noqa: PLC0415
    from tracking.entrypoints.cli.running import with_handlers  # noqa: PLC0415

    query = ListClients(actor=Principal.operator())
    views = with_handlers(settings, lambda h: h.list_clients(query))
    click.echo(f"{'id':36}  {'role':6}  {'active':6}  {'key':12}  {'retention':9}  name")
    for view in views:
        active = "yes" if view.active else "no"
        kept = "forever" if view.retention_days is None else f"{view.retention_days}d"
        click.echo(
            f"{view.id}  {view.role:6}  {active:6}  {view.api_key_prefix:12}  {kept:9}  {view.name}"
        )


@clients.command("rotate")
@click.argument("client_id", type=click.UUID)
def rotate(client_id: UUID) -> None:
    """Give a client a new API key; the old one stops working at once."""
    settings = load()
    from tracking.application.commands.rotate_api_key import RotateApiKey  # noqa: PLC0415
    from tracking.application.principal import Principal  # noqa: PLC0415
    from tracking.entrypoints.cli.running import with_handlers  # noqa: PLC0415

    command = RotateApiKey(actor=Principal.operator(), client_id=client_id)
    rotated = with_handlers(settings, lambda h: h.rotate_api_key(command))
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
@click.option("--retention-days", type=_DAYS, help=_RETENTION_HELP)
@click.option(
    "--keep-forever", is_flag=True, help="Clear its retention: its events are kept for ever."
)
def update(
    client_id: UUID,
    *,
    rate_limit: int | None,
    events_per_minute: int | None,
    role: str | None,
    active: bool | None,
    retention_days: int | None,
    keep_forever: bool,
) -> None:
    """Change a client's limits, role, activity or retention; its next request is served
    under them. The last active admin can be neither demoted nor deactivated."""
    if retention_days is not None and keep_forever:
        raise click.UsageError("--retention-days and --keep-forever contradict each other")
    retention = retention_days is not None or keep_forever
    if (
        rate_limit is None
        and events_per_minute is None
        and role is None
        and active is None
        and not retention
    ):
        raise click.UsageError(
            "name something to change: --rate-limit, --events-per-minute, --role, "
            "--active or --inactive, --retention-days or --keep-forever"
        )
    settings = load()
    import msgspec  # noqa: PLC0415

    from tracking.application.commands.update_client import UpdateClient  # noqa: PLC0415
    from tracking.application.principal import Principal  # noqa: PLC0415
    from tracking.entrypoints.cli.running import with_handlers  # noqa: PLC0415

    command = UpdateClient(
        actor=Principal.operator(),
        client_id=client_id,
        rate_limit_per_minute=rate_limit,
        events_per_minute=events_per_minute,
        role=None if role is None else Role(role),
        active=active,
        retention_days=retention_days if retention else msgspec.UNSET,
    )
    _echo(with_handlers(settings, lambda h: h.update_client(command)))


def _echo(view: "ClientView") -> None:
    click.echo(f"id       {view.id}")
    click.echo(f"name     {view.name}")
    click.echo(f"role     {view.role}")
    click.echo(f"active   {'yes' if view.active else 'no'}")
    click.echo(f"requests {view.rate_limit_per_minute} per minute")
    click.echo(f"events   {view.events_per_minute} per minute")
    kept = "for ever" if view.retention_days is None else f"{view.retention_days} days"
    click.echo(f"keeps    events {kept}")
