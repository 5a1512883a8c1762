"""TRACKING_METRICS_SCHEDULE=internal: `serve` runs the metrics calculation itself, shortly
after each window is due. For single-node installs; several replicas are safe (the run lock
lets one compute and the others find `already_running`).

TRACKING_RETENTION_INTERVAL_SECONDS=N (0, the default: off): `serve` applies retention at
start and every N seconds after, as `tracking retention` does. Several replicas are safe
too: each batch skips the rows another holds, so their runs share the work."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from tracking.application.commands.apply_retention import (
    ApplyRetention,
    ApplyRetentionHandler,
)
from tracking.application.commands.calculate_metrics import (
    CalculateMetrics,
    CalculateMetricsHandler,
)
from tracking.application.metrics_policy import MetricsPolicy
from tracking.application.ports import Clock
from tracking.application.principal import Principal
from tracking.application.queries.stream_events import StreamEventsHandler
from tracking.entrypoints.retention_report import report_lines

log = logging.getLogger(__name__)

SLACK = timedelta(seconds=5)
RETRY_AFTER_FAILURE = timedelta(minutes=1)

Sleep = Callable[[float], Awaitable[None]]


async def run_metrics_schedule(
    calculate: CalculateMetricsHandler,
    clock: Clock,
    policy: MetricsPolicy,
    sleep: Sleep = asyncio.sleep,
) -> None:
    """Runs until cancelled: once at start (to catch up), then after every boundary. A run
    that fails is logged and tried again a minute later; nothing is lost meanwhile, since a
    later run computes every window still due."""
    while True:
        delay = await _run_once(calculate)
        now = clock.now()
        next_due = policy.size.window_of(now).end + policy.grace + SLACK
        await sleep((next_due - now if delay is None else delay).total_seconds())


async def _run_once(calculate: CalculateMetricsHandler) -> timedelta | None:
    try:
        run = await calculate(CalculateMetrics(actor=Principal.operator()))
    except Exception:
        log.exception("the scheduled metrics run failed; retrying in a minute")
        return RETRY_AFTER_FAILURE
    if run.already_running:
        log.info("scheduled metrics run: another run holds the lock")
    else:
        log.info(
            "scheduled metrics run: %d windows computed, %d pending", len(run.computed), run.pending
        )
    return timedelta(0) if run.pending else None


async def run_retention_schedule(
    apply: ApplyRetentionHandler, interval_seconds: float, sleep: Sleep = asyncio.sleep
) -> None:
    """Runs until cancelled: at start, then every `interval_seconds`. A run that fails is
    logged and tried again a minute later (or at the next interval, if sooner); what it left
    is removed by the next one."""
    while True:
        try:
            report = await apply(ApplyRetention(actor=Principal.operator()))
        except Exception:
            log.exception("the scheduled retention run failed; retrying in a minute")
            delay = min(interval_seconds, RETRY_AFTER_FAILURE.total_seconds())
        else:
            for line in report_lines(report):
                log.info("scheduled retention run: %s", line)
            delay = interval_seconds
        await sleep(delay)


JOURNAL_TRIM_SECONDS = 600.0


async def run_journal_trim(
    stream: StreamEventsHandler, interval_seconds: float = JOURNAL_TRIM_SECONDS
) -> None:
    """Runs until cancelled: the live stream's journal kept to its replay horizon, every
    `interval_seconds` (a failure is logged and tried again at the next)."""
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            await stream.trim()
        except Exception:
            log.exception("trimming the live stream's journal failed; trying again later")
