"""Which windows a run computes: the due ones never computed, oldest first, capped, once."""

from datetime import datetime, timedelta
from uuid import uuid4

from tests.integration.metrics_helpers import (
    DAY,
    computed_starts,
    due_after,
    hour,
    metrics_of,
    starts,
)
from tracking.bootstrap import Container, resolved
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

    assert starts(run) == [hour(8), hour(32), hour(56)]  # the windows with events, in order
    assert (run.empty, run.pending) == (len(every_window(4, 68)) - 3, 0)
    # every window up to the one ending at 72h is in the run log
    assert computed_starts(await metrics.windows()) == every_window(0, 68)
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
    for at in range(1, 24, 4):
        await metrics.record_on_time(client, hour(at))
    metrics.clock.current = due_after(hour(20))

    first = await metrics.run()
    second = await metrics.run()
    third = await metrics.run()

    assert (starts(first), first.pending) == (every_window(0, 12), 2)
    assert (starts(second), second.pending) == (every_window(16, 20), 0)
    assert (third.computed, third.pending) == ([], 0)
    assert [r.window_start for r in await metrics.rows(client)] == every_window(0, 20)


async def test_empty_windows_are_recorded_at_once_whatever_the_cap_on_windows_with_events(
    container: Container,
) -> None:
    metrics = await metrics_of(container, max_windows=2)
    client = uuid4()
    await metrics.record_on_time(client, hour(1))
    await metrics.record_on_time(client, hour(24 * 29 + 1))
    metrics.clock.current = due_after(hour(24 * 29))  # the backfill (30 days) reaches back

    run = await metrics.run()

    assert starts(run) == [hour(0), hour(24 * 29)]
    assert (run.empty, run.pending) == (29 * 6 - 1, 0)
    log = await metrics.windows()
    assert computed_starts(log) == every_window(0, 24 * 29)
    assert {(w.users, w.events, w.kind) for s, w in log.items() if s not in starts(run)} == {
        (0, 0, "computed")
    }
    assert (await metrics.run()).computed == []


async def test_the_first_run_starts_at_the_window_of_the_oldest_event(
    container: Container,
) -> None:
    metrics = await metrics_of(container)
    await metrics.record_on_time(uuid4(), hour(9))
    metrics.clock.current = due_after(hour(20))

    run = await metrics.run()

    assert (starts(run), run.empty) == ([hour(8)], 3)
    assert computed_starts(await metrics.windows()) == every_window(8, 20)


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
    assert starts(first) == [DAY + timedelta(days=40)]
    log = computed_starts(await metrics.windows())
    assert (log[0], log[-1]) == (oldest, DAY + timedelta(days=40))
    assert len(log) == (DAY + timedelta(days=40) - oldest) // FOUR_HOURS + 1
    assert [r.user_id for r in await metrics.rows(client)] == ["new"]

    reaching = await metrics.run(since=DAY)

    assert starts(reaching) == [DAY]
    assert reaching.empty == (oldest - DAY) // FOUR_HOURS - 1
    assert computed_starts(await metrics.windows())[0] == DAY
    assert [r.user_id for r in await metrics.rows(client)] == ["old", "new"]


async def test_a_dry_run_plans_the_windows_and_computes_none(container: Container) -> None:
    metrics = await metrics_of(container, max_windows=2)
    client = uuid4()
    for at in (1, 5, 9):
        await metrics.record_on_time(client, hour(at))
    metrics.clock.current = due_after(hour(12))

    plan = await metrics.run(dry_run=True)

    assert [w.start for w in plan.planned] == [hour(0), hour(4)]
    assert (plan.computed, plan.pending, plan.empty) == ([], 1, 1)
    assert await metrics.rows(client) == []
    waiting = await metrics.windows()
    assert sorted(waiting) == [hour(0), hour(4), hour(8), hour(12)]
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

    assert (starts(run), run.empty) == ([hour(0)], 1)


async def test_a_window_found_empty_but_given_an_event_since_is_left_to_compute(
    container: Container,
) -> None:
    metrics = await metrics_of(container)
    store = await resolved(container.metrics_store())
    window = WindowSize(4).window_of(hour(1))
    await metrics.record_on_time(uuid4(), hour(1))  # stored after `occupied` would have said no

    filled = await store.record_empty([window, window.next()], hour(9))

    assert filled == [window]
    log = await metrics.windows()
    assert hour(0) not in log or log[hour(0)].computed_at is None  # waiting, not computed
    assert (log[hour(4)].computed_at, log[hour(4)].users) == (hour(9), 0)
    metrics.clock.current = due_after(hour(4))
    assert starts(await metrics.run()) == [hour(0)]
