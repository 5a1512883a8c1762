"""Late events: one recorded after its window closed marks the window stale, and the next run
recomputes exactly the stale windows."""

from datetime import timedelta
from uuid import UUID, uuid4

import asyncpg

from tests.databases import dsn
from tests.integration.metrics_helpers import GRACE, due_after, hour, metrics_of, starts
from tracking.application.commands.record_events import NewEvent
from tracking.bootstrap import Container, resolved
from tracking.domain.windows import WindowSize


async def test_a_late_event_makes_its_window_stale_and_only_that_window_is_recomputed(
    container: Container,
) -> None:
    metrics = await metrics_of(container)
    client = uuid4()
    await metrics.record_on_time(client, hour(5))
    await metrics.record_on_time(client, hour(9))
    metrics.clock.current = due_after(hour(8))
    assert starts(await metrics.run()) == [hour(4), hour(8)]
    first_run_at = metrics.clock.now()
    metrics.clock.current = hour(13)

    late = NewEvent(user_id="u1", action="buy", occurred_at=hour(6))
    assert (await metrics.record(client, late)).count("stored") == 1

    log = await metrics.windows()
    assert (log[hour(4)].stale, log[hour(4)].computed_at) == (True, first_run_at)
    assert not log[hour(8)].stale
    metrics.clock.current = hour(13.5)
    run = await metrics.run()
    assert starts(run) == [hour(4)]
    assert [(c.recomputed, c.users, c.events) for c in run.computed] == [(True, 1, 2)]
    log = await metrics.windows()
    assert (log[hour(4)].stale, log[hour(4)].kind, log[hour(4)].computations) == (
        False,
        "recomputed",
        2,
    )
    assert (log[hour(8)].kind, log[hour(8)].computations) == ("computed", 1)
    recomputed, untouched = await metrics.rows(client)
    assert (recomputed.event_count, recomputed.action_counts) == (2, {"view": 1, "buy": 1})
    assert (recomputed.first_event_at, recomputed.last_event_at) == (hour(5), hour(6))
    assert recomputed.computed_at == hour(13.5)
    assert (untouched.window_start, untouched.computed_at) == (hour(8), first_run_at)


async def test_a_late_duplicate_of_a_stored_event_marks_nothing_stale(
    container: Container,
) -> None:
    metrics = await metrics_of(container)
    client = uuid4()
    event = NewEvent(id=uuid4(), user_id="u1", action="view", occurred_at=hour(5))
    metrics.clock.current = hour(5)
    await metrics.record(client, event)
    metrics.clock.current = due_after(hour(4))
    await metrics.run()
    metrics.clock.current = hour(13)

    resent = await metrics.record(client, event)

    assert resent.count("duplicate") == 1
    assert not (await metrics.windows())[hour(4)].stale
    run = await metrics.run()
    assert (starts(run), run.empty) == ([], 1)  # only the window that has become due since
    assert [r.event_count for r in await metrics.rows(client)] == [1]


async def test_a_late_event_sent_twice_is_counted_once(container: Container) -> None:
    metrics = await metrics_of(container)
    client = uuid4()
    await metrics.record_on_time(client, hour(5))
    metrics.clock.current = due_after(hour(4))
    await metrics.run()
    metrics.clock.current = hour(13)
    late = NewEvent(id=uuid4(), user_id="u1", action="view", occurred_at=hour(6))
    await metrics.record(client, late)
    await metrics.run()

    again = await metrics.record(client, late)

    assert again.count("duplicate") == 1
    assert not (await metrics.windows())[hour(4)].stale
    assert (await metrics.run()).computed == []
    assert [r.event_count for r in await metrics.rows(client)] == [2]


async def test_an_event_in_its_own_open_window_marks_nothing_stale(container: Container) -> None:
    metrics = await metrics_of(container)
    client = uuid4()
    await metrics.record_on_time(client, hour(5))
    metrics.clock.current = due_after(hour(4))
    await metrics.run()
    log = await metrics.windows()

    await metrics.record_on_time(client, hour(8.5))

    assert await metrics.windows() == log
    assert starts(await metrics.run()) == []


async def test_an_event_arriving_in_the_grace_period_is_counted_by_the_first_computation(
    container: Container,
) -> None:
    metrics = await metrics_of(container)
    client = uuid4()
    await metrics.record_on_time(client, hour(1))
    metrics.clock.current = hour(4) + GRACE / 2
    await metrics.record(client, NewEvent(user_id="u1", action="view", occurred_at=hour(3.9)))
    metrics.clock.current = due_after(hour(0))

    run = await metrics.run()

    assert [(c.window.start, c.recomputed, c.events) for c in run.computed] == [(hour(0), False, 2)]
    assert (await metrics.windows())[hour(0)].kind == "computed"


async def test_late_events_in_one_batch_make_each_of_their_windows_stale(
    container: Container,
) -> None:
    metrics = await metrics_of(container)
    client = uuid4()
    await metrics.record_on_time(client, hour(1))
    metrics.clock.current = due_after(hour(16))
    first = await metrics.run()
    assert (len(first.computed), first.empty) == (1, 4)
    metrics.clock.current = hour(21)

    await metrics.record(
        client,
        NewEvent(user_id="u2", action="view", occurred_at=hour(2)),
        NewEvent(user_id="u2", action="view", occurred_at=hour(10)),
        NewEvent(user_id="u2", action="view", occurred_at=hour(11)),
    )

    log = await metrics.windows()
    assert sorted(start for start, window in log.items() if window.stale) == [hour(0), hour(8)]
    run = await metrics.run()
    assert [(c.window.start, c.users, c.events) for c in run.computed] == [
        (hour(0), 2, 2),
        (hour(8), 1, 2),
    ]


async def test_a_late_event_older_than_the_backfill_is_still_counted(
    container: Container,
) -> None:
    metrics = await metrics_of(container, max_windows=1000)
    client = uuid4()
    now = hour(24 * 60 + 1)
    await metrics.record_on_time(client, now - timedelta(days=40))
    metrics.clock.current = now
    first = await metrics.run()
    assert len(first.computed) + first.empty == 30 * 6  # the backfill, and no further

    await metrics.record(client, NewEvent(user_id="old", action="view", occurred_at=hour(1)))

    run = await metrics.run()
    assert starts(run) == [WindowSize(4).window_of(hour(1)).start]
    assert [r.user_id for r in await metrics.rows(client, starts_till=hour(4))] == ["old"]


async def test_a_recomputation_rewrites_only_the_rows_a_late_event_changed(
    container: Container,
) -> None:
    metrics = await metrics_of(container)
    client = uuid4()
    for user in ("u1", "u2", "u3"):
        await metrics.record_on_time(client, hour(5), user_id=user)
    metrics.clock.current = due_after(hour(4))
    await metrics.run()
    first_run_at = metrics.clock.now()
    metrics.clock.current = hour(13)
    late = NewEvent(user_id="u2", action="buy", occurred_at=hour(6))
    newcomer = NewEvent(user_id="u4", action="view", occurred_at=hour(7))
    await metrics.record(client, late, newcomer)

    run = await metrics.run()

    assert [(c.recomputed, c.users, c.events) for c in run.computed] == [(True, 4, 5)]
    rows = {row.user_id: row for row in await metrics.rows(client)}
    assert {user: row.computed_at for user, row in rows.items()} == {
        "u1": first_run_at,
        "u2": hour(13),
        "u3": first_run_at,
        "u4": hour(13),
    }
    assert (rows["u2"].event_count, rows["u2"].action_counts) == (2, {"view": 1, "buy": 1})


async def erase_user_events(container: Container, client_id: UUID, user_id: str) -> None:
    """Removes a user's events behind the service's back, as an erasure will."""
    settings = container.settings()
    if settings.storage_kind == "memory":
        events = container.store().events[client_id]
        for event_id in [i for i, e in events.items() if e.user_id == user_id]:
            del events[event_id]
        return
    connection = await asyncpg.connect(dsn(settings.database_url or ""))
    try:
        await connection.execute(
            "DELETE FROM events WHERE client_id = $1 AND user_id = $2", client_id, user_id
        )
    finally:
        await connection.close()


async def test_a_recomputation_removes_the_row_of_a_user_left_without_events(
    container: Container,
) -> None:
    metrics = await metrics_of(container)
    client = uuid4()
    for user in ("u1", "u2"):
        await metrics.record_on_time(client, hour(5), user_id=user)
    metrics.clock.current = due_after(hour(4))
    await metrics.run()
    await erase_user_events(container, client, "u2")
    store = await resolved(container.metrics_store())

    recomputed = await store.compute(WindowSize(4).window_of(hour(5)), metrics.clock.now())

    assert (recomputed.users, recomputed.events, recomputed.recomputed) == (1, 1, True)
    assert [row.user_id for row in await metrics.rows(client)] == ["u1"]
