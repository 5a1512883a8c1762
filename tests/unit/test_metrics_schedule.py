"""The internal schedule: a run at start, then one shortly after each window is due."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from tests.fakes import FixedClock
from tracking.adapters.memory.metrics import InMemoryMetricsStore
from tracking.adapters.memory.store import InMemoryStore
from tracking.application.commands.calculate_metrics import (
    CalculateMetrics,
    CalculateMetricsHandler,
    MetricsRun,
    Progress,
)
from tracking.application.metrics_policy import MetricsPolicy
from tracking.domain.events import Event
from tracking.domain.windows import WindowSize
from tracking.entrypoints.schedule import SLACK, run_metrics_schedule

START = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
POLICY = MetricsPolicy(
    size=WindowSize(4), grace=timedelta(seconds=60), backfill=timedelta(days=30), max_windows=1
)


class Stop(Exception):
    pass


def seeded(*times: datetime) -> InMemoryStore:
    store = InMemoryStore()
    client_id = uuid4()
    events = [
        Event(
            id=uuid4(),
            client_id=client_id,
            user_id="u",
            action="a",
            occurred_at=at,
            received_at=at,
            metadata="{}",
        )
        for at in times
    ]
    store.events[client_id] = {event.id: event for event in events}
    return store


async def test_it_catches_up_at_start_then_runs_after_each_window_is_due() -> None:
    at_20, at_00 = (
        datetime(2026, 2, 28, 20, 30, tzinfo=UTC),
        datetime(2026, 3, 1, 0, 30, tzinfo=UTC),
    )
    store, clock = seeded(at_20, at_00), FixedClock(START)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(timedelta(seconds=seconds))
        if len(slept) == 3:
            raise Stop

    handler = CalculateMetricsHandler(InMemoryMetricsStore(store), clock, POLICY)
    with pytest.raises(Stop):
        await run_metrics_schedule(handler, clock, POLICY, sleep)

    # At 05:00 two windows are due (20:00 and 00:00) and a run computes one: the next run
    # follows at once; then the schedule waits for 08:00 + grace + slack.
    first_due = datetime(2026, 3, 1, 8, 0, tzinfo=UTC) + POLICY.grace + SLACK
    assert slept == [0.0, (first_due - START).total_seconds(), timedelta(hours=4).total_seconds()]
    computed = sorted(start for (_, start), w in store.windows.items() if w.computed_at)
    assert computed == [
        datetime(2026, 2, 28, 20, 0, tzinfo=UTC),
        datetime(2026, 3, 1, 0, 0, tzinfo=UTC),
        datetime(2026, 3, 1, 4, 0, tzinfo=UTC),
    ]


async def test_a_failing_run_is_retried_a_minute_later() -> None:
    clock = FixedClock(START)
    slept: list[float] = []

    class Broken(CalculateMetricsHandler):
        async def __call__(
            self, command: CalculateMetrics, progress: Progress | None = None
        ) -> MetricsRun:
            raise ConnectionError(f"database down during {command}, {progress}")

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        raise Stop

    with pytest.raises(Stop):
        await run_metrics_schedule(
            Broken(InMemoryMetricsStore(InMemoryStore()), clock, POLICY), clock, POLICY, sleep
        )

    assert slept == [60.0]
