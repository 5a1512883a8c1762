"""The stats' answers over in-memory ports: kept by tenant and question, exact after late
events (HTTP, import or the Kafka consumer), free for live ingest, bounded while open."""

import json
from collections.abc import Collection
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.fakes import T0, FixedClock
from tests.unit.support import group_commit, register
from tracking.adapters.memory.cache import InMemoryCache
from tracking.adapters.memory.read_models import InMemoryClientReadModel
from tracking.adapters.memory.stats_reads import InMemoryStatsReadModel
from tracking.adapters.memory.store import InMemoryStore
from tracking.adapters.system import UuidV7Generator
from tracking.application.answer_cache import AnswerCache
from tracking.application.commands.record_events import (
    NewEvent,
    RecordEvents,
    RecordEventsHandler,
)
from tracking.application.commands.store_queued_events import (
    QueuedEvent,
    StoreQueuedEvents,
    StoreQueuedEventsHandler,
)
from tracking.application.principal import Principal
from tracking.application.queries.daily_stats import DailyStats, DailyStatsHandler
from tracking.application.queries.stats_series import StatsSeries, StatsSeriesHandler
from tracking.domain.events import Event
from tracking.domain.periods import Interval

YESTERDAY = (T0 - timedelta(days=1)).date().isoformat()
TODAY = T0.date().isoformat()


class ManualTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingCache(InMemoryCache):
    """The in-memory cache, counting the writes and invalidations it is asked for."""

    def __init__(self, time: ManualTime) -> None:
        super().__init__(max_entries=1000, clock=time)
        self.writes: list[str] = []

    async def set(
        self, key: str, value: bytes, ttl_seconds: float, tags: Collection[str] = ()
    ) -> None:
        self.writes.append(key)
        await super().set(key, value, ttl_seconds, tags)

    async def invalidate_tags(self, tags: Collection[str]) -> None:
        self.writes.append(f"invalidate {sorted(tags)}")
        await super().invalidate_tags(tags)


class Installation:
    def __init__(self, store: InMemoryStore, clock: FixedClock) -> None:
        self.store, self.clock, self.time = store, clock, ManualTime()
        self.cache = CountingCache(self.time)
        answers = AnswerCache(
            self.cache, namespace="stats", open_ttl=15, settled_ttl=3600, guard_seconds=60
        )
        stats = InMemoryStatsReadModel(store)
        writer = group_commit(store, clock)
        self.record = RecordEventsHandler(
            writer, clock, UuidV7Generator(), timedelta(days=30), answers
        )
        self.imports = RecordEventsHandler(writer, clock, UuidV7Generator(), None, answers)
        self.queued = StoreQueuedEventsHandler(
            writer, InMemoryClientReadModel(store), clock, timedelta(days=30), answers
        )
        self.daily = DailyStatsHandler(stats, answers, clock)
        self.series = StatsSeriesHandler(stats, answers, clock)
        self.answers = answers

    async def send(self, client_id: UUID, *hours_ago: float, action: str = "view") -> None:
        events = [
            NewEvent(
                user_id=f"u{n}",
                action=action,
                occurred_at=self.clock.now() - timedelta(hours=h),
            )
            for n, h in enumerate(hours_ago)
        ]
        recorded = await self.record(RecordEvents(client_id=client_id, events=events))
        assert recorded.count("stored") == len(events)

    async def day(self, client_id: UUID, day: str) -> dict[str, Any]:
        answer = await self.daily(
            DailyStats(actor=Principal.operator(), client_id=client_id, date=day)
        )
        body: dict[str, Any] = json.loads(answer.body)
        return body | {"settled": answer.settled, "max_age": answer.max_age, "etag": answer.etag}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0 + timedelta(minutes=30))  # 12:30 UTC


@pytest.fixture
def install(store: InMemoryStore, clock: FixedClock) -> Installation:
    return Installation(store, clock)


def sneak_in(store: InMemoryStore, client_id: UUID, hours_ago: float) -> None:
    """An event stored behind the use cases' back: an answer still showing without it was
    kept, not recomputed."""
    at = T0 - timedelta(hours=hours_ago)
    event = Event(uuid4(), client_id, "sneaky", "view", at, at, "{}")
    store.events.setdefault(client_id, {})[event.id] = event


async def test_a_settled_day_is_kept_until_a_late_event_for_it_is_stored(
    install: Installation,
) -> None:
    client = uuid4()
    await install.send(client, 20, 22)
    first = await install.day(client, YESTERDAY)
    sneak_in(install.store, client, 21)

    kept = await install.day(client, YESTERDAY)
    await install.send(client, 23)
    fresh = await install.day(client, YESTERDAY)

    assert (first["total_events"], first["settled"], first["max_age"]) == (2, True, 0)
    assert kept == first
    assert (fresh["total_events"], fresh["unique_users"]) == (4, 3)  # u0, u1, sneaky
    assert fresh["etag"] != first["etag"]


async def test_a_late_event_of_another_day_or_client_leaves_the_answer_kept(
    install: Installation,
) -> None:
    client, other = uuid4(), uuid4()
    await install.send(client, 20)
    await install.day(client, YESTERDAY)
    sneak_in(install.store, client, 21)

    await install.send(client, 50)  # two days ago
    await install.send(other, 20)

    assert (await install.day(client, YESTERDAY))["total_events"] == 1


async def test_live_events_write_nothing_to_the_cache(install: Installation) -> None:
    client = uuid4()
    await install.day(client, YESTERDAY)
    install.cache.writes.clear()

    await install.send(client, 0, 0.1, 0.4)  # all in the current UTC hour (12:00-12:30)

    assert install.cache.writes == []


async def test_an_event_of_the_hour_before_is_late(install: Installation) -> None:
    client = uuid4()
    await install.send(client, 0.75)  # 11:45, the current hour began at 12:00

    assert install.cache.writes == [
        f"stats:{{{client}}}:late:{TODAY[:7]}",
        f"invalidate ['stats:{{{client}}}:d:{TODAY}', 'stats:{{{client}}}:m:{TODAY[:7]}']",
    ]


async def test_an_open_day_is_kept_for_the_open_ttl_at_most(install: Installation) -> None:
    client = uuid4()
    await install.send(client, 0.1)
    first = await install.day(client, TODAY)
    await install.send(client, 0.2)  # live: invalidates nothing

    within = await install.day(client, TODAY)
    install.time.now += 16
    after = await install.day(client, TODAY)

    assert (first["settled"], first["max_age"]) == (False, 15)
    assert within["total_events"] == 1
    assert after["total_events"] == 2


async def test_an_import_and_the_kafka_consumer_invalidate_too(
    install: Installation, store: InMemoryStore
) -> None:
    client = (await register(store, "shop")).client.id
    await install.send(client, 20)
    await install.day(client, YESTERDAY)

    imported = NewEvent(user_id="old", action="view", occurred_at=T0 - timedelta(hours=21))
    await install.imports(RecordEvents(client_id=client, events=[imported]))
    assert (await install.day(client, YESTERDAY))["total_events"] == 2

    queued = QueuedEvent(
        client_id=client,
        id=uuid4(),
        user_id="q",
        action="view",
        occurred_at=T0 - timedelta(hours=22),
    )
    recorded = await install.queued(StoreQueuedEvents(events=[queued]))
    assert recorded.count("stored") == 1
    assert (await install.day(client, YESTERDAY))["total_events"] == 3


async def test_a_duplicate_invalidates_nothing(install: Installation) -> None:
    client = uuid4()
    event = NewEvent(id=uuid4(), user_id="u", action="view", occurred_at=T0 - timedelta(hours=20))
    await install.record(RecordEvents(client_id=client, events=[event]))
    install.cache.writes.clear()

    recorded = await install.record(RecordEvents(client_id=client, events=[event]))

    assert recorded.count("duplicate") == 1
    assert install.cache.writes == []


async def test_an_answer_computed_across_a_late_commit_is_not_kept(
    install: Installation,
) -> None:
    """The reader's snapshot missed the event, and the writer's invalidation ran before the
    reader kept its answer: the writer's mark, changed meanwhile, makes the reader drop it."""
    client = uuid4()
    question = ("daily", "UTC", YESTERDAY)
    span = (T0 - timedelta(days=1, hours=12), T0 - timedelta(hours=12))

    async def racing() -> bytes:
        await install.send(client, 20)  # commits, marks, invalidates: all mid-query
        return b"{}"

    async def afterwards() -> bytes:
        return b'{"later": true}'

    answer = install.answers.answer
    raced = await answer(client, question, span, racing, settled=True, now=T0)
    again = await answer(client, question, span, afterwards, settled=True, now=T0)
    kept = await answer(client, question, span, racing, settled=True, now=T0)

    assert (raced.body, again.body, kept.body) == (b"{}", b'{"later": true}', b'{"later": true}')


async def test_a_series_is_kept_and_a_late_event_in_any_of_its_days_drops_it(
    install: Installation,
) -> None:
    client = uuid4()
    await install.send(client, 30)
    query = StatsSeries(
        actor=Principal.operator(),
        client_id=client,
        since="2025-08-01",  # 83 days: tagged by UTC month
        till=TODAY,
        interval=Interval.DAY,
    )
    first = json.loads((await install.series(query)).body)
    sneak_in(install.store, client, 40)
    kept = json.loads((await install.series(query)).body)
    await install.send(client, 24 * 15)  # the 8th of October: its month's tag goes

    fresh = json.loads((await install.series(query)).body)

    def total(body: dict[str, Any]) -> int:
        return sum(point["events"] for point in body["points"])

    assert (len(first["points"]), total(first), total(kept), total(fresh)) == (83, 1, 1, 3)
