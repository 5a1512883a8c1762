"""CalculateMetrics over each storage: which window an event lands in, and what a row says."""

from datetime import timedelta
from uuid import uuid4

from tests.integration.metrics_helpers import DAY, due_after, hour, metrics_of, starts
from tracking.application.views import UserMetricView
from tracking.bootstrap import Container

MICRO = timedelta(microseconds=1)


async def test_events_on_and_next_to_a_boundary_land_in_the_right_window(
    container: Container,
) -> None:
    metrics = await metrics_of(container)
    client = uuid4()
    last_of_first = hour(4) - MICRO
    last_of_second = hour(8) - MICRO
    for at in (last_of_first, hour(4), last_of_second, hour(8)):
        await metrics.record_on_time(client, at)
    metrics.clock.current = due_after(hour(4))

    run = await metrics.run()

    assert starts(run) == [hour(0), hour(4)]
    assert [(c.users, c.events, c.recomputed) for c in run.computed] == [
        (1, 1, False),
        (1, 2, False),
    ]
    rows = await metrics.rows(client)
    assert [(r.window_start, r.window_end, r.event_count) for r in rows] == [
        (hour(0), hour(4), 1),
        (hour(4), hour(8), 2),
    ]
    assert (rows[0].first_event_at, rows[0].last_event_at) == (last_of_first, last_of_first)
    assert (rows[1].first_event_at, rows[1].last_event_at) == (hour(4), last_of_second)


async def test_a_row_counts_a_users_events_and_actions_in_one_window(container: Container) -> None:
    metrics = await metrics_of(container)
    client = uuid4()
    timeline = [(4.25, "view"), (5.5, "click"), (6, "view"), (7.75, "buy"), (8.5, "view")]
    for at, action in timeline:
        await metrics.record_on_time(client, hour(at), action=action)
    await metrics.record_on_time(client, hour(5), user_id="u2", action="view")
    metrics.clock.current = due_after(hour(8))

    run = await metrics.run()

    assert starts(run) == [hour(4), hour(8)]
    ran_at = metrics.clock.now()
    assert await metrics.rows(client) == [
        UserMetricView(
            user_id="u1",
            window_start=hour(4),
            window_end=hour(8),
            event_count=4,
            distinct_actions=3,
            action_counts={"view": 2, "click": 1, "buy": 1},
            first_event_at=hour(4.25),
            last_event_at=hour(7.75),
            computed_at=ran_at,
        ),
        UserMetricView(
            user_id="u2",
            window_start=hour(4),
            window_end=hour(8),
            event_count=1,
            distinct_actions=1,
            action_counts={"view": 1},
            first_event_at=hour(5),
            last_event_at=hour(5),
            computed_at=ran_at,
        ),
        UserMetricView(
            user_id="u1",
            window_start=hour(8),
            window_end=hour(12),
            event_count=1,
            distinct_actions=1,
            action_counts={"view": 1},
            first_event_at=hour(8.5),
            last_event_at=hour(8.5),
            computed_at=ran_at,
        ),
    ]
    assert [r.event_count for r in await metrics.rows(client, user_id="u2")] == [1]


async def test_the_run_log_records_each_computed_window(container: Container) -> None:
    metrics = await metrics_of(container)
    client = uuid4()
    for user in ("u1", "u2", "u2"):
        await metrics.record_on_time(client, hour(1), user_id=user)
    metrics.clock.current = due_after(hour(4))

    await metrics.run()

    log = await metrics.windows()
    assert sorted(log) == [hour(0), hour(4)]
    first, empty = log[hour(0)], log[hour(4)]
    assert (first.stale, first.kind, first.users, first.events, first.computations) == (
        False,
        "computed",
        2,
        3,
        1,
    )
    assert first.computed_at == metrics.clock.now()
    assert (empty.users, empty.events, empty.end) == (0, 0, hour(8))


async def test_the_run_log_shows_a_due_window_that_waits_for_its_first_run(
    container: Container,
) -> None:
    """ListMetricWindows promises "due ones never computed" beside computed and stale ones."""
    metrics = await metrics_of(container)
    await metrics.record_on_time(uuid4(), hour(1))
    metrics.clock.current = due_after(hour(0))

    log = await metrics.windows()

    assert hour(0) in log
    assert log[hour(0)].computed_at is None


async def test_clients_with_the_same_user_id_get_rows_of_their_own(container: Container) -> None:
    metrics = await metrics_of(container)
    first, second = uuid4(), uuid4()
    await metrics.record_on_time(first, hour(1), user_id="shared", action="view")
    await metrics.record_on_time(second, hour(2), user_id="shared", action="buy")
    await metrics.record_on_time(second, hour(3), user_id="shared", action="buy")
    metrics.clock.current = due_after(hour(0))

    run = await metrics.run()

    assert [(c.users, c.events) for c in run.computed] == [(2, 3)]
    (mine,) = await metrics.rows(first)
    (theirs,) = await metrics.rows(second)
    assert (mine.event_count, mine.action_counts, mine.first_event_at) == (1, {"view": 1}, hour(1))
    assert (theirs.event_count, theirs.action_counts) == (2, {"buy": 2})
    assert (theirs.first_event_at, theirs.last_event_at) == (hour(2), hour(3))
    assert await metrics.rows(uuid4()) == []


async def test_rows_are_filtered_by_window_start_from_inclusive_till_exclusive(
    container: Container,
) -> None:
    metrics = await metrics_of(container)
    client = uuid4()
    for at in (1, 5, 9, 13):
        await metrics.record_on_time(client, hour(at))
    metrics.clock.current = due_after(hour(12))
    await metrics.run()

    rows = await metrics.rows(client, starts_from=hour(4), starts_till=hour(12))

    assert [r.window_start for r in rows] == [hour(4), hour(8)]
    assert [r.window_start for r in await metrics.rows(client, starts_from=DAY)] == [
        hour(0),
        hour(4),
        hour(8),
        hour(12),
    ]
