"""`tracking retention`: remove what is past its retention, for a Kubernetes CronJob or by
hand."""

import logging
from datetime import datetime

import click

from tracking.entrypoints.cli.common import load
from tracking.entrypoints.cli.metrics import Instant

log = logging.getLogger(__name__)


@click.command("retention")
@click.option("--now", type=Instant(), default=None, help="Judge as if it were this time.")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
def retention(now: datetime | None, *, dry_run: bool) -> None:
    """Remove each client's events that occurred longer ago than its retention_days, and the
    metric rows of windows that ended longer ago than TRACKING_METRICS_RETENTION_DAYS, in
    batches of TRACKING_RETENTION_BATCH_ROWS rows per transaction. Clients without a
    retention keep their events for ever; the metrics of removed events stay."""
    settings = load()
    from tracking.application.commands.apply_retention import ApplyRetention  # noqa: PLC0415
    from tracking.application.principal import Principal  # noqa: PLC0415
    from tracking.entrypoints.cli.running import with_handlers  # noqa: PLC0415
    from tracking.entrypoints.retention_report import report_lines  # noqa: PLC0415

    command = ApplyRetention(actor=Principal.operator(), now=now, dry_run=dry_run)
    report = with_handlers(settings, lambda h: h.apply_retention(command))
    lines = report_lines(report)
    for line in lines:
        click.echo(line)
    log.info("retention: %s", lines[-1])
