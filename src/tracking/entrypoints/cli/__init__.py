"""The `tracking` command: serve the API, consume Kafka, migrate the schema, compute metrics,
administer clients."""

import sys

import click

from tracking.entrypoints.cli.clients import clients
from tracking.entrypoints.cli.consume import consume
from tracking.entrypoints.cli.metrics import calculate_metrics
from tracking.entrypoints.cli.migrate import migrate
from tracking.entrypoints.cli.serve import serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Records what the users of our clients' applications do, exactly once."""


for command in (serve, consume, migrate, calculate_metrics, clients):
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
