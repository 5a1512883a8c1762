"""`tracking migrate`: move the schema, or say where it is."""

from typing import TYPE_CHECKING

import click

from tracking.entrypoints.cli.common import DATABASES, FromEnvironment, load, storage_default

if TYPE_CHECKING:
    from tracking.bootstrap import Container

ACTIONS = click.Choice(["upgrade", "downgrade", "current", "history"])


# `downgrade -1` is a revision, not an option.
@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("action", type=ACTIONS, default="upgrade")
@click.argument("revision", required=False)
@click.option(
    "--storage",
    type=DATABASES,
    cls=FromEnvironment,
    shown=storage_default,
    help="Whose schema.",
)
def migrate(action: str, revision: str | None, storage: str | None) -> None:
    """Move the schema to REVISION (upgrade: head by default; downgrade: required, e.g. -1 or
    base), or show where it is (current) and what exists (history)."""
    settings = load(storage=storage)
    if settings.storage_kind == "memory":
        raise click.UsageError("memory storage has no schema to migrate")
    if action == "downgrade" and revision is None:
        raise click.UsageError("downgrade needs a REVISION, e.g. -1 or base")
    from tracking.bootstrap import Container  # noqa: PLC0415
    from tracking.entrypoints.cli.running import opened  # noqa: PLC0415

    if action == "history":
        click.echo("\n".join(Container(settings=settings).migration_history()))
        return
    with opened(settings) as (loop, container):
        click.echo(loop.run(_migrated(container, action, revision)))


async def _migrated(container: "Container", action: str, revision: str | None) -> str:
    from alembic.util import CommandError  # noqa: PLC0415

    from tracking.bootstrap import resolved  # noqa: PLC0415

    schema = await resolved(container.schema())
    try:
        if action == "upgrade":
            await schema.upgrade(revision or "head")
        elif action == "downgrade":
            await schema.downgrade(revision or "")
    except CommandError as error:
        raise click.ClickException(f"migrate {action}: {error}") from None
    at, head = await schema.current(), schema.head()
    if action == "upgrade" and at == head:
        # The events' coming months, made as the schema reaches head (`serve` and `consume`
        # make them too as they start, and every hour).
        await resolved(container.event_partitions())
    state = "at head" if at == head else f"head is {head}"
    return f"schema at {at or 'nothing (empty database)'} ({state})"
