"""The `tracking` command: serve the API, consume Kafka, migrate the schema, compute metrics,
apply retention, administer clients.

`--help` answers at once: the modules that define the commands import only click, the
settings, the domain and the standard library. What a command runs on (SQLAlchemy, alembic,
Litestar, Redis, Kafka: seconds to import) is imported inside it, when it runs."""

import sys

import click

from tracking.entrypoints.cli.clients import clients
from tracking.entrypoints.cli.consume import consume
from tracking.entrypoints.cli.metrics import calculate_metrics
from tracking.entrypoints.cli.migrate import migrate
from tracking.entrypoints.cli.retention import retention
from tracking.entrypoints.cli.serve import serve
from tracking.entrypoints.cli.users import users


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Log at DEBUG for this run (alembic's lines among them), whatever TRACKING_LOG_LEVEL.",
)
def main(*, verbose: bool) -> None:
    """Records what the users of our clients' applications do, exactly once."""
    # `verbose` is read from this context by the command that runs (`common.load`).


for command in (serve, consume, migrate, calculate_metrics, retention, clients, users):
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
