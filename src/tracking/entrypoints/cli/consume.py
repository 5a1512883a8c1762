"""`tracking consume`: the Kafka consumer, as a command."""

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
    from tracking.entrypoints.server import tune_gc  # noqa: PLC0415

    with opened(settings) as (loop, container):
        tune_gc()
        loop.run(ConsumerService(container).run())
