"""Helpers for the metrics tests: the use cases of a container whose clock we set by hand."""

import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from dependency_injector import providers

from tests.fakes import FixedClock
from tracking.application.commands.calculate_metrics import (
    CalculateMetrics,
    CalculateMetricsHandler,
    MetricsRun,
)
from tracking.application.commands.record_events import (
    NewEvent,
    RecordedEvents,
    RecordEvents,
    RecordEventsHandler,
)
from tracking.application.principal import Principal
from tracking.application.queries.list_metric_windows import (
    ListMetricWindows,
    ListMetricWindowsHandler,
)
from tracking.application.queries.list_metrics import ListMetrics, ListMetricsHandler
from tracking.application.views import UserMetricView, WindowView
from tracking.bootstrap import Container, resolved

ADMIN = Principal.operator()
DAY = datetime(2025, 10, 20, tzinfo=UTC)  # a midnight, and a window boundary
GRACE = timedelta(seconds=60)


def hour(hours: float) -> datetime:
    """`hours` after DAY's midnight."""
    return DAY + timedelta(hours=hours)


def due_after(window_start: datetime) -> datetime:
    """The first instant at which the 4-hour window starting then is due."""
    return window_start + timedelta(hours=4) + GRACE


@dataclass(frozen=True)
class Metrics:
    clock: FixedClock
    recorder: RecordEventsHandler
    calculator: CalculateMetricsHandler
    lister: ListMetricsHandler
    run_log: ListMetricWindowsHandler

    async def record(self, client_id: UUID, *events: NewEvent) -> RecordedEvents:
        """Recorded now, by the clock: received_at is its time."""
        return await self.recorder(RecordEvents(client_id=client_id, events=list(events)))

    async def record_on_time(
        self, client_id: UUID, at: datetime, *, user_id: str = "u1", action: str = "view"
    ) -> None:
        """An event received as it happened: it marks no window stale."""
        self.clock.current = at
        recorded = await self.record(
            client_id, NewEvent(user_id=user_id, action=action, occurred_at=at)
        )
        assert recorded.count("stored") == 1, recorded

    async def run(self, **fields: Any) -> MetricsRun:
        return await self.calculator(CalculateMetrics(actor=ADMIN, **fields))

    async def rows(self, client_id: UUID, **fields: Any) -> list[UserMetricView]:
        query = ListMetrics(actor=ADMIN, client_id=client_id, limit=1000, **fields)
        page = await self.lister(query)
        assert page.next_cursor is None
        return page.metrics

    async def windows(self) -> dict[datetime, WindowView]:
        """The whole run log, by window start."""
        query = ListMetricWindows(
            actor=ADMIN,
            starts_from=datetime(1990, 1, 1, tzinfo=UTC),
            starts_till=self.clock.now() + timedelta(days=400),
        )
        return {window.start: window for window in await self.run_log(query)}


async def metrics_of(
    container: Container, clock: FixedClock | None = None, **policy: Any
) -> Metrics:
    """The container's use cases on a fixed clock; `policy` changes `MetricsPolicy` fields.
    Overrides come before any handler is resolved, so every handler gets them."""
    clock = clock or FixedClock(DAY)
    container.clock.override(providers.Object(clock))
    if policy:
        changed = dataclasses.replace(container.metrics_policy(), **policy)
        container.metrics_policy.override(providers.Object(changed))
    handlers = await resolved(container.handlers())
    return Metrics(
        clock=clock,
        recorder=handlers.record_events,
        calculator=handlers.calculate_metrics,
        lister=handlers.list_metrics,
        run_log=handlers.list_metric_windows,
    )


def starts(run: MetricsRun) -> list[datetime]:
    """The windows with events the run computed."""
    return [computed.window.start for computed in run.computed]


def computed_starts(log: dict[datetime, WindowView]) -> list[datetime]:
    """Every window the run log says was computed, with events or empty."""
    return sorted(start for start, window in log.items() if window.computed_at is not None)


def by_window(rows: list[UserMetricView]) -> dict[tuple[datetime, str], UserMetricView]:
    return {(row.window_start, row.user_id): row for row in rows}


async def yielded(turns: int) -> None:
    """Lets other tasks run `turns` times: a step in the event loop, never a wait on time."""
    for _ in range(turns):
        await asyncio.sleep(0)
