"""`tracking consume`: the Kafka consumer, as a command."""

import click

from tracking.entrypoints.cli.common import DATABASES, load, opened
from tracking.entrypoints.consumer.run import ConsumerService
from tracking.entrypoints.server import tune_gc


@click.command()
@click.option("--storage", type=DATABASES, default=None, help="[default: embedded]")
def consume(storage: str | None) -> None:
    """Store the events of TRACKING_KAFKA_TOPIC until SIGINT or SIGTERM; then finish and
    commit the batch in hand, leave the group and exit 0. Offsets are committed only after
    the batch is stored; invalid messages go to <topic>.dlq."""
    settings = load(storage=storage)
    if settings.storage_kind == "memory":
        raise click.UsageError(
            "consume stores into PostgreSQL: memory storage lives and dies with one process"
        )
    with opened(settings) as (loop, container):
        tune_gc()
        loop.run(ConsumerService(container).run())
