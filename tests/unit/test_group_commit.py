"""Group commit: concurrent writes share transactions, and nobody hears "stored" too early."""

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from tests.fakes import FixedClock
from tracking.adapters.group_commit import GroupCommitEventWriter, UnitOfWorkEventStore
from tracking.adapters.memory.store import InMemoryStore
from tracking.adapters.memory.stream import InMemoryEventFeed
from tracking.adapters.memory.unit_of_work import InMemoryUnitOfWork
from tracking.application.errors import Unavailable
from tracking.application.ports import Stored
from tracking.domain.events import Event
from tracking.domain.windows import WindowSize

T0 = datetime(2025, 10, 23, 12, 0, tzinfo=UTC)


def event(
    client_id: UUID, event_id: UUID | None = None, at: datetime = T0, action: str = "a"
) -> Event:
    return Event(
        id=event_id or uuid4(),
        client_id=client_id,
        user_id="u",
        action=action,
        occurred_at=at,
        received_at=at,
        metadata="{}",
    )


class CountingUnitOfWork(InMemoryUnitOfWork):
    """Counts transactions and what each committed; can be told to fail its commits."""

    commits: list[int]
    fail: bool

    def __init__(self, store: InMemoryStore, log: list[int], *, fail: bool) -> None:
        super().__init__(store)
        self.commits = log
        self.fail = fail

    async def commit(self) -> None:
        if self.fail:
            # As the PostgreSQL unit of work says "the database went away".
            raise Unavailable("database_unavailable", "the database is unavailable")
        if any(e.action == "poison" for e in self._events.pending.values()):
            raise RuntimeError("a bug this event meets")
        self.commits.append(len(self.events.pending))
        await super().commit()


def writer(
    store: InMemoryStore,
    commits: list[int],
    *,
    fail: bool = False,
    max_events: int = 500,
    max_flushes: int = 2,
) -> GroupCommitEventWriter:
    return GroupCommitEventWriter(
        lambda: CountingUnitOfWork(store, commits, fail=fail),
        UnitOfWorkEventStore(lambda: CountingUnitOfWork(store, commits, fail=fail)),
        clock=FixedClock(),
        window_size=WindowSize(4),
        feed=InMemoryEventFeed(),
        max_events=max_events,
        max_flushes=max_flushes,
    )


async def test_concurrent_writes_share_a_few_transactions_and_each_hears_its_own_keys() -> None:
    store, commits = InMemoryStore(), list[int]()
    client = uuid4()
    events = [event(client) for _ in range(50)]
    write = writer(store, commits, max_flushes=1)

    answers = await asyncio.gather(*(write.write([e]) for e in events))

    assert answers == [Stored(duplicates=frozenset()) for e in events]
    assert sum(commits) == 50
    assert len(commits) < 50
    assert len(store.events_of(client)) == 50


async def test_a_key_sent_by_two_writes_of_one_group_is_stored_for_the_first_only() -> None:
    store, commits = InMemoryStore(), list[int]()
    shared = event(uuid4())
    write = writer(store, commits, max_flushes=1)

    first, second = await asyncio.gather(write.write([shared]), write.write([shared]))

    assert (first.duplicates, second.duplicates) == (
        frozenset(),
        frozenset({(shared.client_id, shared.id)}),
    )
    assert commits == [1]


async def test_writes_of_a_client_whose_flush_is_under_way_wait_and_then_go_in_one() -> None:
    """Its transaction holds the client's journal position to its commit: a second flush of
    the client would only wait for it, so what arrives meanwhile waits and goes at once."""
    store, commits, gate = InMemoryStore(), list[int](), asyncio.Event()

    class Gated(CountingUnitOfWork):
        async def commit(self) -> None:
            await gate.wait()
            await super().commit()

    client = uuid4()
    write = GroupCommitEventWriter(
        lambda: Gated(store, commits, fail=False),
        UnitOfWorkEventStore(lambda: Gated(store, commits, fail=False)),
        clock=FixedClock(),
        window_size=WindowSize(4),
        feed=InMemoryEventFeed(),
        max_flushes=8,
    )
    first = asyncio.ensure_future(write.write([event(client)]))
    await asyncio.sleep(0.01)  # its flush took it, and waits to commit
    waves = [asyncio.ensure_future(write.write([event(client)])) for _ in range(10)]
    await asyncio.sleep(0.01)
    waves += [asyncio.ensure_future(write.write([event(client)])) for _ in range(5)]
    await asyncio.sleep(0.01)
    gate.set()
    await asyncio.gather(first, *waves)
    assert commits == [1, 15]


async def test_the_same_id_from_two_clients_in_one_group_is_stored_for_both() -> None:
    store, commits = InMemoryStore(), list[int]()
    same = uuid4()
    mine, theirs = event(uuid4(), same), event(uuid4(), same)
    write = writer(store, commits, max_flushes=1)

    answers = await asyncio.gather(write.write([mine]), write.write([theirs]))

    assert [a.duplicates for a in answers] == [frozenset(), frozenset()]


async def test_a_write_meeting_a_bug_fails_alone_and_its_neighbours_in_the_group_are_stored() -> (
    None
):
    store, commits = InMemoryStore(), list[int]()
    mine, theirs = uuid4(), uuid4()
    write = writer(store, commits, max_flushes=1)
    first = event(mine)

    answers = await asyncio.gather(
        write.write([first]),
        write.write([event(theirs, action="poison")]),
        write.write([event(theirs), first]),
        return_exceptions=True,
    )

    assert answers[0] == Stored(duplicates=frozenset())
    assert isinstance(answers[1], RuntimeError)
    assert answers[2] == Stored(duplicates=frozenset({(first.client_id, first.id)}))
    assert (len(store.events_of(mine)), len(store.events_of(theirs))) == (1, 1)


async def test_a_failed_flush_fails_its_writes_as_unavailable_and_stores_nothing() -> None:
    store, commits = InMemoryStore(), list[int]()
    client = uuid4()
    write = writer(store, commits, fail=True)

    answers = await asyncio.gather(
        *(write.write([event(client)]) for _ in range(3)), return_exceptions=True
    )

    assert all(isinstance(a, Unavailable) for a in answers)
    assert all(a.retry_after == 1 for a in answers if isinstance(a, Unavailable))
    assert store.events_of(client) == {}


async def test_a_write_as_large_as_a_group_is_its_own_transaction() -> None:
    store, commits = InMemoryStore(), list[int]()
    client = uuid4()
    write = writer(store, commits, max_events=10)

    stored = await write.write([event(client) for _ in range(10)])

    assert stored.duplicates == frozenset()
    assert len(store.events_of(client)) == 10
    assert commits == [10]


async def test_groups_never_exceed_max_events() -> None:
    store, commits = InMemoryStore(), list[int]()
    client = uuid4()
    write = writer(store, commits, max_events=8, max_flushes=1)

    await asyncio.gather(*(write.write([event(client), event(client)]) for _ in range(20)))

    assert sum(commits) == 40
    assert max(commits) <= 8


@pytest.mark.parametrize("max_flushes", [1, 3])
async def test_every_write_is_answered_however_many_flushes_run(max_flushes: int) -> None:
    store, commits = InMemoryStore(), list[int]()
    client = uuid4()
    write = writer(store, commits, max_flushes=max_flushes)

    answers: Sequence[Stored] = await asyncio.gather(
        *(write.write([event(client)]) for _ in range(200))
    )

    assert all(a.duplicates == frozenset() for a in answers)
    assert len(store.events_of(client)) == 200


async def test_a_write_committed_after_its_window_closed_marks_the_window_stale() -> None:
    """Received while its window was open, committed after it closed: a run may already have
    computed the window without it, so the commit marks it stale."""
    store = InMemoryStore()
    late = event(uuid4(), at=T0.replace(hour=3, minute=59))  # window 00:00-04:00 still open
    clock = FixedClock(T0.replace(hour=4, minute=2))  # the commit comes after 04:00
    write = GroupCommitEventWriter(
        lambda: InMemoryUnitOfWork(store),
        UnitOfWorkEventStore(lambda: InMemoryUnitOfWork(store)),
        clock=clock,
        window_size=WindowSize(4),
        feed=InMemoryEventFeed(),
    )

    await write.write([late])

    (mark,) = store.stale
    assert (mark.client_id, mark.window.start) == (late.client_id, T0.replace(hour=0))


async def test_a_write_committed_while_its_window_is_open_marks_nothing() -> None:
    store = InMemoryStore()
    now = T0.replace(hour=3, minute=59)
    write = GroupCommitEventWriter(
        lambda: InMemoryUnitOfWork(store),
        UnitOfWorkEventStore(lambda: InMemoryUnitOfWork(store)),
        clock=FixedClock(now),
        window_size=WindowSize(4),
        feed=InMemoryEventFeed(),
    )

    await write.write([event(uuid4(), at=now)])

    assert store.windows == {}
