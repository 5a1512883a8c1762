"""What an application of retention removed, as lines: the CLI prints them, the internal
schedule logs them."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracking.application.retention import RetentionReport


def report_lines(report: "RetentionReport") -> list[str]:
    """One line per client with a retention, one for the metrics, then a summary."""
    verb = "would remove" if report.dry_run else "removed"
    lines = [
        f"client   {client.client_id}  {client.name}: keeps {client.retention_days} days "
        f"(before {client.cutoff.isoformat()}): {verb} {client.events_removed} events, "
        f"{client.stale_marks_removed} stale marks"
        for client in report.clients
    ]
    metrics = report.metrics
    if metrics is None:
        lines.append("metrics  kept for ever (TRACKING_METRICS_RETENTION_DAYS is not set)")
    else:
        lines.append(
            f"metrics  keep {metrics.retention_days} days (windows ended by "
            f"{metrics.cutoff.isoformat()}): {verb} {metrics.rows_removed} rows; run log "
            f"(ended by {metrics.run_log_cutoff.isoformat()}): {verb} "
            f"{metrics.windows_removed} windows, {metrics.stale_marks_removed} stale marks"
        )
    lines.extend(
        f"month    {month.start:%Y-%m}: {verb} whole, {month.events} events"
        for month in report.months_dropped
    )
    if report.keys_trimmed:
        lines.append(f"keys     trimmed {report.keys_trimmed} keys of dropped months' events")
    batches = "" if report.dry_run else f" in {report.batches} batches"
    lines.append(
        f"{verb} {report.events_removed} events of {len(report.clients)} clients with a "
        f"retention ({report.kept_for_ever} keep theirs for ever) and "
        f"{report.metric_rows_removed} metric rows{batches}"
    )
    return lines
