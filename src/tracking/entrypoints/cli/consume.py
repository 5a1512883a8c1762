"""`tracking consume`: the Kafka consumer, as a command."""

import contextlib

import click

from tracking.entrypoints.cli.common import DATABASES, FromEnvironment, load, storage_default


@click.command()
@click.option(
    "--storage",
    type=DATABASES,
    cls=FromEnvironment,
    shown=storage_default,
    help="Where the events are stored.",
)
def consume(storage: str | None) -> None:
    """Store the events of TRACKING_KAFKA_TOPIC until SIGINT or SIGTERM; then finish and
    commit the batch in hand, leave the group and exit 0. Offsets are committed only after
    the batch is stored; invalid messages go to <topic>.dlq."""
    settings = load(storage=storage)
    if settings.storage_kind == "memory":
        raise click.UsageError(
            "consume stores into PostgreSQL: memory storage lives and dies with one process"
        )
    from tracking.entrypoints.cli.running import opened  # noqa: PLC0415
    from tracking.entrypoints.consumer.run import ConsumerService  # noqa: PLC0415
    from tracking.entrypoints.server import CannotListen, bound_socket, tune_gc  # noqa: PLC0415

    # The health port bound first: in use, it is the one thing said, before anything starts.
    health = None
    if settings.consumer_port:
        try:
            health = bound_socket(settings.http_host, settings.consumer_port)
        except CannotListen as error:
            raise click.ClickException(f"TRACKING_CONSUMER_PORT: {error}") from None
    with (
        contextlib.closing(health) if health else contextlib.nullcontext(),
        opened(settings) as (loop, container),
    ):
        tune_gc()
        loop.run(ConsumerService(container, health_socket=health).run())
