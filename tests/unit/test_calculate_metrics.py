"""CalculateMetrics refuses, before touching anything, a caller or a time it cannot serve."""

from datetime import datetime, timedelta
from uuid import uuid4

import pytest

from tests.fakes import T0, FixedClock
from tests.unit.support import principal, record
from tracking.adapters.memory.metrics import InMemoryMetricsStore
from tracking.adapters.memory.store import InMemoryStore
from tracking.application.commands.calculate_metrics import (
    CalculateMetrics,
    CalculateMetricsHandler,
)
from tracking.application.commands.record_events import NewEvent
from tracking.application.errors import Forbidden
from tracking.application.metrics_policy import MetricsPolicy
from tracking.application.principal import Principal
from tracking.domain.errors import InvalidInput
from tracking.domain.windows import WindowSize

CLIENT = principal()
POLICY = MetricsPolicy(
    size=WindowSize(4),
    grace=timedelta(seconds=60),
    backfill=timedelta(days=30),
    max_windows=42,
)


@pytest.fixture
async def handler(store: InMemoryStore, clock: FixedClock) -> CalculateMetricsHandler:
    clock.current = T0 - timedelta(hours=8)
    await record(store, clock, uuid4(), [NewEvent(user_id="u1", action="view")])
    clock.current = T0
    return CalculateMetricsHandler(InMemoryMetricsStore(store), clock, POLICY)


async def test_a_client_may_not_run_the_calculation(
    handler: CalculateMetricsHandler, store: InMemoryStore
) -> None:
    with pytest.raises(Forbidden) as refused:
        await handler(CalculateMetrics(actor=CLIENT))

    assert refused.value.code == "admin_required"
    assert store.windows == {}


NAIVE = datetime(2025, 10, 22, 12, 0)  # noqa: DTZ001 - the point of the tests below


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (CalculateMetrics(actor=Principal.operator(), now=NAIVE), "now"),
        (CalculateMetrics(actor=Principal.operator(), since=NAIVE), "since"),
    ],
    ids=["now", "since"],
)
async def test_a_time_without_an_offset_is_refused(
    handler: CalculateMetricsHandler, store: InMemoryStore, command: CalculateMetrics, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await handler(command)

    assert refused.value.code == "invalid_time"
    assert [e.field for e in refused.value.errors] == [field]
    assert store.windows == {}


async def test_an_admin_runs_it(handler: CalculateMetricsHandler) -> None:
    run = await handler(CalculateMetrics(actor=Principal.operator()))

    # The event's window [04:00, 08:00) is due; [08:00, 12:00) is not until 12:01.
    assert [(c.window.start, c.events) for c in run.computed] == [(T0 - timedelta(hours=8), 1)]
