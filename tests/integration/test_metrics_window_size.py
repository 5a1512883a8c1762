"""TRACKING_METRICS_WINDOW_HOURS: every part of the calculation uses the configured size."""

from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import uuid4

import msgspec
import pytest

from tests.integration.metrics_helpers import GRACE, hour, metrics_of, starts
from tracking.application.commands.record_events import NewEvent
from tracking.bootstrap import Container, shut_down
from tracking.settings import Settings


@pytest.fixture
async def six_hours(settings: Settings) -> AsyncIterator[Container]:
    built = Container(settings=msgspec.structs.replace(settings, metrics_window_hours=6))
    yield built
    await shut_down(built)


async def test_six_hour_windows_are_computed_and_recomputed_as_six_hour_windows(
    six_hours: Container,
) -> None:
    metrics = await metrics_of(six_hours)
    client = uuid4()
    await metrics.record_on_time(client, hour(6) - timedelta(microseconds=1))
    await metrics.record_on_time(client, hour(6))
    metrics.clock.current = hour(12) + GRACE

    first = await metrics.run()

    assert starts(first) == [hour(0), hour(6)]
    rows = await metrics.rows(client)
    assert [(r.window_start, r.window_end, r.event_count) for r in rows] == [
        (hour(0), hour(6), 1),
        (hour(6), hour(12), 1),
    ]
    metrics.clock.current = hour(13)
    await metrics.record(client, NewEvent(user_id="u1", action="view", occurred_at=hour(11)))
    log = await metrics.windows()
    assert [start for start, window in log.items() if window.stale] == [hour(6)]
    assert log[hour(6)].end == hour(12)
    second = await metrics.run()
    assert [(c.window.start, c.recomputed, c.events) for c in second.computed] == [
        (hour(6), True, 2)
    ]
