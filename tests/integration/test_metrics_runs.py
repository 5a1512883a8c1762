"""Which windows a run computes: the due ones never computed, oldest first, capped, once."""

from datetime import datetime, timedelta
from uuid import uuid4

from tests.integration.metrics_helpers import DAY, due_after, hour, metrics_of, starts
from tracking.bootstrap import Container
from tracking.domain.windows import WindowSize

FOUR_HOURS = timedelta(hours=4)


def every_window(first: int, last: int) -> list[datetime]:
    """Starts of the 4-hour windows from hour `first` to hour `last` of DAY, both included."""
    return [hour(h) for h in range(first, last + 1, 4)]


async def test_a_second_run_computes_nothing_and_leaves_the_rows_as_they_were(
    container: Container,
) -> None:
    metrics = await metrics_of(container)
    client = uuid4()
    for at in (1, 2, 6):
        await metrics.record_on_time(client, hour(at), user_id=f"u{at}")
    metrics.clock.current = due_after(hour(4))
    first = await metrics.run()
    rows = await metrics.rows(client)
    log = await metrics.windows()
    metrics.clock.advance(timedelta(minutes=30))

    second = await metrics.run()

    assert starts(first) == [hour(0), hour(4)]
    assert (second.computed, second.pending, second.already_running) == ([], 0, False)
    assert await metrics.rows(client) == rows
    assert await metrics.windows() == log


async def test_a_run_after_missed_ones_catches_up_every_window_oldest_first(
    container: Container,
) -> None:
    metrics = await metrics_of(container)
    client = uuid4()
    await metrics.record_on_time(client, hour(1))
    metrics.clock.current = due_after(hour(0))
    assert starts(await metrics.run()) == [hour(0)]
    for day in range(3):
        await metrics.record_on_time(client, hour(24 * day + 10), user_id=f"day{day}")
    metrics.clock.current = hour(72 + 1)

    run = await metrics.run()

    assert starts(run) == every_window(4, 68)  # every window up to the one ending at 72h
    assert run.pending == 0
    rows = await metrics.rows(client)
    assert [(r.user_id, r.window_start) for r in rows] == [
        ("u1", hour(0)),
        ("day0", hour(8)),
        ("day1", hour(32)),
        ("day2", hour(56)),
    ]


async def test_a_run_stops_at_max_windows_and_the_next_one_continues(
    container: Container,
) -> None:
    metrics = await metrics_of(container, max_windows=4)
    client = uuid4()
    await metrics.record_on_time(client, hour(1))
    await metrics.record_on_time(client, hour(21))
    metrics.clock.current = due_after(hour(20))

    first = await metrics.run()
    second = await metrics.run()
    third = await metrics.run()

    assert (starts(first), first.pending) == (every_window(0, 12), 2)
    assert (starts(second), second.pending) == (every_window(16, 20), 0)
    assert (third.computed, third.pending) == ([], 0)
    assert [r.window_start for r in await metrics.rows(client)] == [hour(0), hour(20)]


async def test_the_first_run_starts_at_the_window_of_the_oldest_event(
    container: Container,
) -> None:
    metrics = await metrics_of(container)
    await metrics.record_on_time(uuid4(), hour(9))
    metrics.clock.current = due_after(hour(20))

    run = await metrics.run()

    assert starts(run) == every_window(8, 20)


async def test_a_store_with_no_events_has_nothing_to_compute(container: Container) -> None:
    metrics = await metrics_of(container)
    metrics.clock.current = hour(100)

    run = await metrics.run()

    assert (run.computed, run.pending) == ([], 0)
    assert await metrics.windows() == {}


async def test_the_first_run_goes_back_no_further_than_the_backfill_and_since_goes_further(
    container: Container,
) -> None:
    metrics = await metrics_of(container, max_windows=1000)
    client = uuid4()
    backfill = container.metrics_policy().backfill
    await metrics.record_on_time(client, hour(1), user_id="old")
    await metrics.record_on_time(client, DAY + timedelta(days=40, hours=1), user_id="new")
    now = due_after(DAY + timedelta(days=40))
    metrics.clock.current = now

    first = await metrics.run()

    oldest = WindowSize(4).window_of(now - backfill).start
    assert backfill == timedelta(days=30)
    assert starts(first)[0] == oldest
    assert starts(first)[-1] == DAY + timedelta(days=40)
    assert len(first.computed) == (DAY + timedelta(days=40) - oldest) // FOUR_HOURS + 1
    assert [r.user_id for r in await metrics.rows(client)] == ["new"]

    reaching = await metrics.run(since=DAY)

    assert starts(reaching) == [DAY + n * FOUR_HOURS for n in range((oldest - DAY) // FOUR_HOURS)]
    assert [r.user_id for r in await metrics.rows(client)] == ["old", "new"]


async def test_a_dry_run_plans_the_windows_and_computes_none(container: Container) -> None:
    metrics = await metrics_of(container, max_windows=2)
    client = uuid4()
    await metrics.record_on_time(client, hour(1))
    metrics.clock.current = due_after(hour(8))

    plan = await metrics.run(dry_run=True)

    assert [w.start for w in plan.planned] == [hour(0), hour(4)]
    assert (plan.computed, plan.pending) == ([], 1)
    assert await metrics.rows(client) == []
    waiting = await metrics.windows()
    assert sorted(waiting) == [hour(0), hour(4), hour(8)]
    assert all(window.computed_at is None for window in waiting.values())
    run = await metrics.run()
    assert starts(run) == [w.start for w in plan.planned]


async def test_a_window_is_computed_only_once_its_grace_period_has_passed(
    container: Container,
) -> None:
    metrics = await metrics_of(container)
    await metrics.record_on_time(uuid4(), hour(1))
    metrics.clock.current = due_after(hour(0)) - timedelta(microseconds=1)

    early = await metrics.run()
    metrics.clock.advance(timedelta(microseconds=1))
    on_time = await metrics.run()

    assert early.computed == []
    assert starts(on_time) == [hour(0)]


async def test_now_given_to_the_run_decides_which_windows_are_due(container: Container) -> None:
    metrics = await metrics_of(container)
    await metrics.record_on_time(uuid4(), hour(1))

    run = await metrics.run(now=due_after(hour(4)))

    assert starts(run) == [hour(0), hour(4)]
