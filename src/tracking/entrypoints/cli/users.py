"""`tracking users ...`: erase, unsuppress and export a user, as the installation's operator."""

import sys
from typing import TYPE_CHECKING
from uuid import UUID

import click

from tracking.entrypoints.cli.common import load

if TYPE_CHECKING:
    from tracking.application.handlers import Handlers

_CLIENT = click.option("--client", "client", required=True, help="The user's client: name or id.")


@click.group()
def users() -> None:
    """Erase, unsuppress and export a client's user, acting as the operator."""


async def client_id_of(handlers: "Handlers", given: str) -> UUID:
    """A client named by its id, or by its name."""
    from tracking.application.errors import NotFound  # noqa: PLC0415
    from tracking.application.principal import Principal  # noqa: PLC0415
    from tracking.application.queries.list_clients import ListClients  # noqa: PLC0415

    try:
        return UUID(given)
    except ValueError:
        pass
    for view in await handlers.list_clients(ListClients(actor=Principal.operator())):
        if view.name == given:
            return view.id
    raise NotFound("client_not_found", f"no client named {given!r}")


@users.command("erase")
@click.argument("user_id")
@_CLIENT
@click.option("--suppress", is_flag=True, help="Also refuse the user's later events.")
def erase(user_id: str, client: str, *, suppress: bool) -> None:
    """Delete every event and metric row of a user (in batches), and log the erasure."""
    settings = load()
    from tracking.application.commands.erase_user import EraseUser  # noqa: PLC0415
    from tracking.application.principal import Principal  # noqa: PLC0415
    from tracking.entrypoints.cli.running import with_handlers  # noqa: PLC0415

    async def run(handlers: "Handlers") -> None:
        command = EraseUser(
            actor=Principal.operator(),
            user_id=user_id,
            client_id=await client_id_of(handlers, client),
            suppress=suppress,
        )
        receipt = await handlers.erase_user(command)
        click.echo(f"erasure  {receipt.erasure_id}")
        click.echo(f"events   {receipt.events_deleted} deleted")
        click.echo(f"metrics  {receipt.metric_rows_deleted} rows deleted")
        click.echo(f"windows  {receipt.windows_affected} affected")
        click.echo(f"suppressed {'yes' if receipt.suppressed else 'no'}")

    with_handlers(settings, run)


@users.command("unsuppress")
@click.argument("user_id")
@_CLIENT
def unsuppress(user_id: str, client: str) -> None:
    """Accept a suppressed user's events again."""
    settings = load()
    from tracking.application.commands.lift_suppression import LiftSuppression  # noqa: PLC0415
    from tracking.application.principal import Principal  # noqa: PLC0415
    from tracking.entrypoints.cli.running import with_handlers  # noqa: PLC0415

    async def run(handlers: "Handlers") -> None:
        command = LiftSuppression(
            actor=Principal.operator(),
            user_id=user_id,
            client_id=await client_id_of(handlers, client),
        )
        await handlers.lift_suppression(command)
        click.echo("suppression lifted")

    with_handlers(settings, run)


@users.command("export")
@click.argument("user_id")
@_CLIENT
def export(user_id: str, client: str) -> None:
    """Print every event and metric row of a user as NDJSON, one object a line."""
    settings = load()
    from tracking.application.principal import Principal  # noqa: PLC0415
    from tracking.application.queries.export_user import ExportUser  # noqa: PLC0415
    from tracking.entrypoints.cli.running import with_handlers  # noqa: PLC0415

    async def run(handlers: "Handlers") -> None:
        query = ExportUser(
            actor=Principal.operator(),
            user_id=user_id,
            client_id=await client_id_of(handlers, client),
        )
        out = sys.stdout.buffer
        async for chunk in await handlers.export_user(query):
            out.write(chunk)
        out.flush()

    with_handlers(settings, run)
