"""`tracking calculate-metrics`: the metrics command, for a Kubernetes CronJob or by hand."""

from datetime import datetime

import click

from tracking.application.commands.calculate_metrics import CalculateMetrics, MetricsRun
from tracking.application.ports import ComputedWindow
from tracking.application.principal import Principal
from tracking.entrypoints.cli.common import load, with_handlers

_BAR_FROM = 10  # windows: below this, one line each; from it on, a progress bar
_BAR_WIDTH = 30


class Instant(click.ParamType[datetime]):
    """An ISO 8601 time with its UTC offset."""

    name = "ISO8601"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 time", param, ctx)
        if parsed.tzinfo is None:
            self.fail(f"{value!r} needs a UTC offset, e.g. 2025-10-23T12:00:00Z", param, ctx)
        return parsed


@click.command("calculate-metrics")
@click.option("--now", type=Instant(), default=None, help="Compute as if it were this time.")
@click.option("--since", type=Instant(), default=None, help="Start at this time's window.")
@click.option("--dry-run", is_flag=True, help="Say which windows are due; compute nothing.")
def calculate_metrics(now: datetime | None, since: datetime | None, *, dry_run: bool) -> None:
    """Compute every due 4-hour window that was never computed or went stale, oldest first.
    Exits 0 when done, when nothing was due, and when another run holds the lock."""
    command = CalculateMetrics(actor=Principal.operator(), now=now, since=since, dry_run=dry_run)
    run = with_handlers(load(), lambda h: h.calculate_metrics(command, _report))
    click.echo(_summary(run))


def _report(computed: ComputedWindow, done: int, total: int) -> None:
    """One line a window; a progress bar (on stderr) when many are due."""
    if total < _BAR_FROM:
        click.echo(_line(computed))
        return
    filled = done * _BAR_WIDTH // total
    bar = "#" * filled + "." * (_BAR_WIDTH - filled)
    click.echo(f"\r  [{bar}] {done}/{total} windows", nl=done == total, err=True)


def _line(computed: ComputedWindow) -> str:
    kind = "recomputed" if computed.recomputed else "computed"
    start = computed.window.start.isoformat()
    return f"{kind:10}  {start}  {computed.users} users  {computed.events} events"


def _summary(run: MetricsRun) -> str:
    if run.already_running:
        return "another metrics run holds the lock; this one did nothing"
    empty = f"; {run.empty} empty windows recorded" if run.empty else ""
    if run.planned:
        first, last = run.planned[0].start.isoformat(), run.planned[-1].start.isoformat()
        return (
            f"due: {len(run.planned)} windows with events, starting {first} to {last}; "
            f"{run.pending} more after them; {run.empty} empty windows to record"
        )
    if not run.computed:
        return f"nothing was due{empty}"
    recomputed = sum(1 for c in run.computed if c.recomputed)
    users = sum(c.users for c in run.computed)
    events = sum(c.events for c in run.computed)
    return (
        f"computed {len(run.computed)} windows ({recomputed} recomputed): {users} user rows, "
        f"{events} events{empty}; {run.pending} due windows left for the next run"
    )
