"""`tracking consume`: the Kafka consumer, as a command."""

import asyncio

import click

from tracking.bootstrap import build_container
from tracking.entrypoints.cli_clients import load
from tracking.entrypoints.consumer.run import ConsumerService
from tracking.entrypoints.server import tune_gc
from tracking.entrypoints.storage import ready_storage

STORAGES = click.Choice(["embedded", "postgres"])


def _runner() -> asyncio.Runner:
    try:
        import uvloop  # noqa: PLC0415 - optional: not on Windows
    except ImportError:  # pragma: no cover
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


@click.command()
@click.option("--storage", type=STORAGES, default=None, help="[default: embedded]")
def consume(storage: str | None) -> None:
    """Store the events of TRACKING_KAFKA_TOPIC until SIGINT or SIGTERM; then finish and
    commit the batch in hand, leave the group and exit 0. Offsets are committed only after
    the batch is stored; invalid messages go to <topic>.dlq."""
    settings = load(storage=storage)
    if settings.storage_kind == "memory":
        raise click.UsageError(
            "consume stores into PostgreSQL: memory storage lives and dies with one process"
        )
    with ready_storage(settings) as ready:
        container = build_container(ready)
        tune_gc()
        with _runner() as runner:
            runner.run(ConsumerService(container, ready).run())
