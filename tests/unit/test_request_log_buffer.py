"""The request log's buffer and writer: requests kept as they are answered, written in
batches off the request path, bounded while the store cannot be written, flushed on close."""

import asyncio
import logging
from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from tests.fakes import FixedClock
from tests.unit.support import stats_cache
from tracking.adapters.memory.store import InMemoryStore
from tracking.adapters.memory.usage import InMemoryRequestLogStore
from tracking.adapters.prometheus import REGISTRY
from tracking.adapters.request_log import BufferedRequestLog, running_request_log
from tracking.adapters.system import UuidV7Generator
from tracking.application.errors import Unavailable
from tracking.application.ports import RequestLog, RequestLogStore
from tracking.application.usage import LoggedRequest

NOW = datetime(2025, 3, 30, 12, 0, tzinfo=UTC)
CLIENT = uuid4()


class FlakyStore(RequestLogStore):
    """The in-memory store, failing while `failure` is set; it notes every call."""

    def __init__(self) -> None:
        self.rows = InMemoryStore()
        self._inner = InMemoryRequestLogStore(self.rows)
        self.failure: Exception | None = None
        self.batches: list[list[LoggedRequest]] = []
        self.prepared: list[set[date]] = []
        self.dropped_before: list[date] = []

    async def prepare(self, days: Collection[date]) -> None:
        self._fail()
        self.prepared.append(set(days))
        await self._inner.prepare(days)

    async def add_all(self, rows: Sequence[LoggedRequest]) -> None:
        self.batches.append(list(rows))
        self._fail()
        await self._inner.add_all(rows)

    async def drop_before(self, day: date) -> list[date]:
        self._fail()
        self.dropped_before.append(day)
        return await self._inner.drop_before(day)

    def stored(self) -> list[LoggedRequest]:
        return [r for day in self.rows.request_log.values() for r in day.values()]

    def _fail(self) -> None:
        if self.failure is not None:
            raise self.failure


OUTAGE = Unavailable("database_unavailable", "the database is unavailable; retry shortly")


def dropped() -> float:
    return REGISTRY.get_sample_value("tracking_request_log_dropped_total") or 0.0


def buffered() -> float:
    return REGISTRY.get_sample_value("tracking_request_log_buffered") or 0.0


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def store() -> FlakyStore:
    return FlakyStore()


def buffer(
    store: FlakyStore, clock: FixedClock, *, max_rows: int = 100, batch_rows: int = 10
) -> BufferedRequestLog:
    return BufferedRequestLog(
        store,
        clock,
        UuidV7Generator(),
        stats_cache(namespace="usage"),
        max_rows=max_rows,
        retention_days=30,
        batch_rows=batch_rows,
        interval=0.01,
    )


def record(log: RequestLog, n: int, status: int = 200) -> None:
    for i in range(n):
        log.record(CLIENT, "GET", "/api/events", status, 0.25, request_id=f"r{i}")


async def test_a_request_is_written_as_it_arrived_with_its_figures(
    store: FlakyStore, clock: FixedClock
) -> None:
    log = buffer(store, clock)
    log.record(CLIENT, "POST", "/api/event", 201, 0.0125, request_id="abc")

    assert store.stored() == []  # nothing is written on the request path
    assert await log.write()

    (written,) = store.stored()
    assert written.client_id == CLIENT
    assert (written.method, written.route, written.status) == ("POST", "/api/event", 201)
    assert written.duration_ms == 12.5
    assert written.request_id == "abc"
    assert written.requested_at == NOW - timedelta(seconds=0.0125)


async def test_rows_go_in_batches_of_at_most_batch_rows(
    store: FlakyStore, clock: FixedClock
) -> None:
    log = buffer(store, clock, batch_rows=10)
    record(log, 25)

    await log.write()

    assert [len(b) for b in store.batches] == [10, 10, 5]
    assert len({r.id for r in store.stored()}) == 25


async def test_the_days_partitions_are_made_ahead_and_old_ones_dropped_once_a_day(
    store: FlakyStore, clock: FixedClock
) -> None:
    log = buffer(store, clock)
    today = NOW.date()

    await log.write()
    await log.write()
    clock.advance(timedelta(days=1))
    await log.write()

    assert store.prepared == [
        {today, today + timedelta(days=1), today + timedelta(days=2)},
        {today + timedelta(days=3)},
    ]
    assert store.dropped_before == [today - timedelta(days=30), today - timedelta(days=29)]


async def test_a_rows_own_day_is_made_when_it_was_not(store: FlakyStore, clock: FixedClock) -> None:
    log = buffer(store, clock)
    await log.write()
    # Answered a second after midnight, after 2 seconds: it arrived the day before.
    clock.current = NOW.replace(hour=0, minute=0, second=1)
    log.record(CLIENT, "GET", "/api/events", 200, 2.0, request_id="late")

    await log.write()

    assert {NOW.date() - timedelta(days=1)} in store.prepared
    assert store.stored()[0].requested_at.date() == NOW.date() - timedelta(days=1)


async def test_during_an_outage_rows_wait_and_are_written_once_with_the_same_ids(
    store: FlakyStore, clock: FixedClock
) -> None:
    log = buffer(store, clock)
    await log.write()
    record(log, 5)
    store.failure = OUTAGE

    assert not await log.write()
    assert not await log.write()
    store.failure = None
    assert await log.write()

    assert len(store.stored()) == 5
    first, second, last = store.batches
    assert [r.id for r in first] == [r.id for r in second] == [r.id for r in last]


async def test_a_full_buffer_drops_the_oldest_and_counts_them(
    store: FlakyStore, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    log = buffer(store, clock, max_rows=20, batch_rows=10)
    await log.write()
    before = dropped()
    store.failure = OUTAGE
    record(log, 15)
    await log.write()  # takes 10 into its batch, which still counts against the bound
    for i in range(15):
        log.record(CLIENT, "GET", "/api/new", 200, 0.1, request_id=f"new{i}")
    await log.write()
    await log.write()

    assert log.buffered == 20
    assert dropped() == before + 10
    store.failure = None
    caplog.set_level(logging.INFO, "tracking.adapters.request_log")
    await log.write()

    ids = sorted(r.request_id for r in store.stored())
    assert ids == sorted([f"r{i}" for i in range(10, 15)] + [f"new{i}" for i in range(15)])
    assert [m for m in caplog.messages if "request log" in m] == [
        (
            "request log: its buffer is full (20 requests); the oldest are dropped until it "
            "can write again"
        ),
        "request log: writing again; 10 requests were dropped",
    ]


async def test_the_buffer_full_warning_is_said_once_per_outage(
    store: FlakyStore, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    log = buffer(store, clock, max_rows=5, batch_rows=5)
    await log.write()
    store.failure = OUTAGE
    with caplog.at_level(logging.WARNING, "tracking.adapters.request_log"):
        for _ in range(3):
            record(log, 8)
            await log.write()

    assert len([m for m in caplog.messages if "buffer is full" in m]) == 1


async def test_a_batch_the_store_refuses_is_dropped_counted_and_said_once(
    store: FlakyStore, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    log = buffer(store, clock)
    await log.write()
    before = dropped()
    store.failure = ValueError("a row the database refuses")
    with caplog.at_level(logging.ERROR, "tracking.adapters.request_log"):
        record(log, 3)
        await log.write()
        record(log, 2)
        await log.write()

    assert dropped() == before + 5
    assert log.buffered == 0
    assert len(caplog.records) == 1
    store.failure = None
    record(log, 1)
    assert await log.write()
    assert len(store.stored()) == 1


async def test_a_failed_upkeep_does_not_stop_the_writes(
    store: FlakyStore, clock: FixedClock
) -> None:
    class NoDrops(FlakyStore):
        async def drop_before(self, day: date) -> list[date]:
            raise TimeoutError(f"no lock to drop the days before {day}")  # not an outage

    failing = NoDrops()
    log = buffer(failing, clock)
    record(log, 3)

    assert await log.write()
    assert len(failing.stored()) == 3


async def test_the_writer_writes_within_its_interval_and_closing_writes_the_rest(
    store: FlakyStore, clock: FixedClock
) -> None:
    opened = running_request_log(
        store,
        clock,
        UuidV7Generator(),
        stats_cache(namespace="usage"),
        enabled=True,
        max_rows=100,
        retention_days=30,
        interval=0.01,
    )
    log = await anext(opened)
    assert log is not None
    record(log, 3)
    for _ in range(200):
        if len(store.stored()) == 3:
            break
        await asyncio.sleep(0.01)
    assert len(store.stored()) == 3
    assert buffered() == 0
    record(log, 2)

    await opened.aclose()

    assert len(store.stored()) == 5


async def test_closing_while_the_store_is_down_counts_what_is_left(
    store: FlakyStore, clock: FixedClock
) -> None:
    log = buffer(store, clock)
    writer = asyncio.create_task(log.run())
    await asyncio.sleep(0.05)
    store.failure = OUTAGE
    record(log, 4)
    before = dropped()

    await log.close(writer)

    assert dropped() == before + 4
    assert store.stored() == []


async def test_off_there_is_no_log() -> None:
    opened = running_request_log(
        FlakyStore(),
        FixedClock(),
        UuidV7Generator(),
        stats_cache(namespace="usage"),
        enabled=False,
        max_rows=1,
        retention_days=1,
    )

    assert await anext(opened) is None
    await opened.aclose()


async def test_a_full_batch_wakes_the_writer_before_its_interval(
    store: FlakyStore, clock: FixedClock
) -> None:
    log = BufferedRequestLog(
        store,
        clock,
        UuidV7Generator(),
        stats_cache(namespace="usage"),
        max_rows=100,
        retention_days=30,
        batch_rows=10,
        interval=3600,
    )
    writer = asyncio.create_task(log.run())
    await asyncio.sleep(0.01)  # its first write (the upkeep) is done; it waits an hour now
    record(log, 10)
    for _ in range(100):
        if store.stored():
            break
        await asyncio.sleep(0.01)

    assert len(store.stored()) == 10
    await log.close(writer)


async def test_a_partition_not_made_in_time_keeps_its_batch_for_the_next_write(
    clock: FixedClock,
) -> None:
    class LateLock(FlakyStore):
        refusals = 2

        async def prepare(self, days: Collection[date]) -> None:
            if self.refusals and NOW.date() + timedelta(days=5) in days:
                self.refusals -= 1
                raise TimeoutError("canceling statement due to lock timeout")  # not an outage
            await super().prepare(days)

    store = LateLock()
    log = buffer(store, clock)
    await log.write()
    clock.advance(timedelta(days=5))  # a day whose partition is not made ahead
    before = dropped()
    record(log, 3)

    assert not await log.write()  # the upkeep's lock refused, then the batch's
    assert await log.write()
    assert (len(store.stored()), dropped()) == (3, before)
