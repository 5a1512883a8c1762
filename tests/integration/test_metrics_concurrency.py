"""Concurrent runs never interleave, and a run racing late events never loses one of them."""

import asyncio
from collections import Counter
from datetime import timedelta
from uuid import UUID, uuid4

from tests.integration.metrics_helpers import Metrics, due_after, hour, metrics_of, starts, yielded
from tracking.application.commands.calculate_metrics import MetricsRun
from tracking.application.commands.record_events import NewEvent
from tracking.bootstrap import Container, resolved
from tracking.domain.windows import StaleMark, Window, WindowSize

RUNS = 5


async def seed_two_windows(metrics: Metrics) -> UUID:
    client = uuid4()
    for at, user in ((1, "u1"), (2, "u2"), (5, "u1")):
        await metrics.record_on_time(client, hour(at), user_id=user)
    metrics.clock.current = due_after(hour(4))
    return client


async def assert_computed_once(metrics: Metrics, client: UUID) -> None:
    rows = await metrics.rows(client)
    assert [(r.window_start, r.user_id, r.event_count) for r in rows] == [
        (hour(0), "u1", 1),
        (hour(0), "u2", 1),
        (hour(4), "u1", 1),
    ]
    log = await metrics.windows()
    assert [(w.start, w.computations, w.kind) for w in log.values()] == [
        (hour(0), 1, "computed"),
        (hour(4), 1, "computed"),
    ]


async def finished(tasks: list[asyncio.Task[MetricsRun]], count: int) -> None:
    """Returns once `count` of the tasks are done."""
    done: set[asyncio.Task[MetricsRun]] = set()
    while len(done) < count:
        more, _ = await asyncio.wait(
            [t for t in tasks if t not in done], return_when=asyncio.FIRST_COMPLETED
        )
        done |= more


async def test_runs_that_overlap_all_but_one_get_already_running(container: Container) -> None:
    metrics = await metrics_of(container)
    client = await seed_two_windows(metrics)
    first_window = Window(start=hour(0), size=WindowSize(4))

    # An open transaction marking the first window holds it (and the in-memory store's write
    # lock): whichever run takes the run lock waits in it until the transaction ends.
    new_uow = await resolved(container.uow())
    async with new_uow() as uow:
        await uow.windows.mark_stale([StaleMark(client, first_window)])
        runs = [asyncio.create_task(metrics.run()) for _ in range(RUNS)]
        await finished(runs, RUNS - 1)
    results = await asyncio.gather(*runs)

    assert sorted(r.already_running for r in results) == [False] + [True] * (RUNS - 1)
    (winner,) = [r for r in results if not r.already_running]
    assert starts(winner) == [hour(0), hour(4)]
    assert all(r.computed == [] for r in results if r.already_running)
    await assert_computed_once(metrics, client)


async def test_runs_started_at_once_compute_each_window_exactly_once(
    container: Container,
) -> None:
    metrics = await metrics_of(container)
    client = await seed_two_windows(metrics)

    results = await asyncio.gather(*(metrics.run() for _ in range(RUNS)))

    (computing,) = [r for r in results if r.computed]
    assert starts(computing) == [hour(0), hour(4)]
    # The others either overlapped it or came after it, when nothing was left to do.
    others = [r for r in results if r is not computing]
    assert all(r.already_running or (r.computed, r.pending) == ([], 0) for r in others)
    await assert_computed_once(metrics, client)


async def test_a_run_racing_late_events_counts_them_or_leaves_the_window_stale(
    container: Container,
) -> None:
    metrics = await metrics_of(container)
    client = uuid4()
    await metrics.record_on_time(client, hour(5), user_id="u0", action="a0")
    metrics.clock.current = due_after(hour(4))  # the window [04:00, 08:00) closed
    expected = Counter({"u0": 1})
    sent = 0

    async def late_event(turns: int) -> None:
        nonlocal sent
        sent += 1
        user = f"u{sent % 3}"
        event = NewEvent(
            user_id=user, action=f"a{sent % 2}", occurred_at=hour(4) + timedelta(seconds=sent)
        )
        await yielded(turns)
        assert (await metrics.record(client, event)).count("stored") == 1
        expected[user] += 1

    async def run_after(turns: int) -> MetricsRun:
        await yielded(turns)
        return await metrics.run()

    for attempt in range(8):
        await late_event(0)  # the window is stale: the run below computes it
        running = asyncio.create_task(run_after(attempt % 4))
        await asyncio.gather(running, *(late_event((n * attempt) % 5) for n in range(6)))
        run = running.result()

        assert starts(run) == [hour(4)]
        counted = Counter({r.user_id: r.event_count for r in await metrics.rows(client)})
        assert counted.total() == run.computed[0].events
        assert counted == expected or (await metrics.windows())[hour(4)].stale, attempt
        assert starts(await metrics.run()) in ([], [hour(4)])
        counted = Counter({r.user_id: r.event_count for r in await metrics.rows(client)})
        assert counted == expected, attempt
        assert not (await metrics.windows())[hour(4)].stale
