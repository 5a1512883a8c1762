"""`tracking calculate-metrics`: the metrics command, for a Kubernetes CronJob or by hand."""

import sys
from datetime import datetime
from typing import IO, TYPE_CHECKING

import click

from tracking.domain.errors import RuleViolation
from tracking.domain.instants import instant_of
from tracking.entrypoints.cli.common import load

if TYPE_CHECKING:
    from tracking.application.commands.calculate_metrics import MetricsRun
    from tracking.application.ports import ComputedWindow

_BAR_FROM = 10  # windows: below this, one line each; from it on, a bar (on a terminal)
_BAR_WIDTH = 30


class Instant(click.ParamType[datetime]):
    """An RFC 3339 time with its UTC offset, read as every time we accept is."""

    name = "RFC3339"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return instant_of(str(value), "time")
        except RuleViolation as error:
            self.fail(f"{value!r} {error.message}", param, ctx)


@click.command("calculate-metrics")
@click.option("--now", type=Instant(), default=None, help="Compute as if it were this time.")
@click.option("--since", type=Instant(), default=None, help="Start at this time's window.")
@click.option("--dry-run", is_flag=True, help="Say which windows are due; compute nothing.")
def calculate_metrics(now: datetime | None, since: datetime | None, *, dry_run: bool) -> None:
    """Compute every due 4-hour window that was never computed or went stale, oldest first.
    Exits 0 when done, when nothing was due, and when another run holds the lock."""
    settings = load()
    from tracking.application.commands.calculate_metrics import CalculateMetrics  # noqa: PLC0415
    from tracking.application.principal import Principal  # noqa: PLC0415
    from tracking.entrypoints.cli.running import with_handlers  # noqa: PLC0415

    command = CalculateMetrics(actor=Principal.operator(), now=now, since=since, dry_run=dry_run)
    run = with_handlers(settings, lambda h: h.calculate_metrics(command, _report))
    for window in run.planned:
        click.echo(f"to compute    {window.start.isoformat()}  (every client)")
    for stale in run.planned_stale:
        count = len(stale.clients)
        click.echo(f"to recompute  {stale.window.start.isoformat()}  ({count} clients' rows)")
    click.echo(_summary(run, dry_run=dry_run))


def _report(computed: "ComputedWindow", done: int, total: int) -> None:
    """One line a window; a progress bar on stderr instead when many are due and stderr is a
    terminal. Into a log (a CronJob's), a bar's carriage returns would make one endless line."""
    if not animates(total, sys.stderr):
        click.echo(_line(computed))
        return
    filled = done * _BAR_WIDTH // total
    bar = "#" * filled + "." * (_BAR_WIDTH - filled)
    click.echo(f"\r  [{bar}] {done}/{total} windows", nl=done == total, err=True)


def animates(total: int, stream: IO[str]) -> bool:
    """Whether the progress of `total` windows is a bar drawn on `stream`."""
    return total >= _BAR_FROM and stream.isatty()


def _line(computed: "ComputedWindow") -> str:
    kind = "recomputed" if computed.recomputed else "computed"
    start = computed.window.start.isoformat()
    whose = "" if computed.clients is None else f"  ({len(computed.clients)} clients' rows)"
    return f"{kind:10}  {start}  {computed.users} users  {computed.events} events{whose}"


def _summary(run: "MetricsRun", *, dry_run: bool) -> str:
    if run.already_running:
        return "another metrics run holds the lock; this one did nothing"
    empty = f"; {run.empty} empty windows recorded" if run.empty else ""
    if dry_run:
        due = f"due: {len(run.planned)} windows with events"
        if run.planned:
            first, last = run.planned[0].start.isoformat(), run.planned[-1].start.isoformat()
            due += f", starting {first} to {last}"
        return (
            f"{due}; {len(run.planned_stale)} windows with clients' late events to recompute; "
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
