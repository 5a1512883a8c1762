"""The usage answers over in-memory ports: kept by tenant and question, exact after a late
write of the request log (its client's answers and every client's), free for live writes,
bounded while open, all dropped when days go past retention."""

import dataclasses
import json
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.fakes import FixedClock
from tests.unit.support import principal
from tracking.adapters.memory.cache import InMemoryCache
from tracking.adapters.memory.store import InMemoryStore
from tracking.adapters.memory.usage import InMemoryRequestLogStore, InMemoryUsageReadModel
from tracking.adapters.request_log import BufferedRequestLog
from tracking.adapters.system import UuidV7Generator
from tracking.application.answer_cache import AnswerCache
from tracking.application.principal import Principal
from tracking.application.queries.daily_usage import DailyUsage, DailyUsageHandler
from tracking.application.queries.top_clients import TopClients, TopClientsHandler
from tracking.application.usage import LoggedRequest
from tracking.domain.clients import Role

NOW = datetime(2025, 3, 30, 21, 30, tzinfo=UTC)
YESTERDAY = NOW - timedelta(days=1)
ADMIN = principal(role=Role.ADMIN)


def caller(client_id: UUID) -> Principal:
    return dataclasses.replace(principal(), client_id=client_id)


Json = dict[str, Any]


class CountingCache(InMemoryCache):
    """The in-memory cache on the test's clock, noting the invalidations it is asked for."""

    def __init__(self, clock: FixedClock) -> None:
        super().__init__(max_entries=1000, clock=lambda: clock.now().timestamp())
        self.invalidated: list[str] = []

    async def invalidate_tags(self, tags: Collection[str]) -> None:
        self.invalidated.extend(sorted(tags))
        await super().invalidate_tags(tags)

    async def invalidate_prefix(self, prefix: str) -> None:
        self.invalidated.append(prefix + "*")
        await super().invalidate_prefix(prefix)


class Installation:
    def __init__(self) -> None:
        self.store = InMemoryStore()
        self.clock = FixedClock(NOW)
        self.cache = CountingCache(self.clock)
        answers = AnswerCache(
            self.cache, namespace="usage", open_ttl=15, settled_ttl=3600, guard_seconds=60
        )
        self.log = BufferedRequestLog(
            InMemoryRequestLogStore(self.store),
            self.clock,
            UuidV7Generator(),
            answers,
            max_rows=100,
            retention_days=30,
        )
        usage = InMemoryUsageReadModel(self.store)
        self.daily = DailyUsageHandler(usage, answers, self.clock)
        self.top = TopClientsHandler(usage, answers, self.clock)

    async def requested(self, client_id: UUID, at: datetime, *, written_at: datetime) -> None:
        """A request answered at `at`, which the writer writes at `written_at`; then it is
        `NOW` again."""
        self.clock.current = at
        self.log.record(client_id, "GET", "/api/events", 200, 0.0, request_id="r")
        self.clock.current = written_at
        assert await self.log.write()
        self.clock.current = NOW

    def sneak_in(self, client_id: UUID, at: datetime) -> None:
        """A request written behind the writer's back: an answer without it was kept."""
        row = LoggedRequest(
            client_id=client_id,
            requested_at=at,
            id=uuid4(),
            method="GET",
            route="/api/sneaky",
            status=200,
            duration_ms=1.0,
            request_id="s",
        )
        self.store.request_log.setdefault(at.date(), {})[(client_id, at, row.id)] = row

    async def yesterday(self, actor: Principal, client_id: UUID | None = None) -> Json:
        day = YESTERDAY.date()
        query = DailyUsage(
            actor=actor,
            client_id=client_id,
            first=day.isoformat(),
            till=(day + timedelta(days=1)).isoformat(),
        )
        answer = await self.daily(query)
        body: Json = json.loads(answer.body)
        return {"requests": body["days"][0]["requests"], "settled": answer.settled}

    async def top_of_yesterday(self) -> list[tuple[str, int]]:
        since = YESTERDAY - timedelta(hours=12)
        answer = await self.top(TopClients(actor=ADMIN, since=since))
        assert answer.settled
        return [(c["client_id"], c["requests"]) for c in json.loads(answer.body)["clients"]]


@pytest.fixture
def install() -> Installation:
    return Installation()


async def test_a_settled_range_is_kept_until_a_late_request_of_it_is_written(
    install: Installation,
) -> None:
    me = uuid4()
    await install.requested(me, YESTERDAY, written_at=YESTERDAY)
    first = await install.yesterday(caller(me))
    everyone = await install.yesterday(ADMIN)
    install.sneak_in(me, YESTERDAY)
    kept = await install.yesterday(caller(me))

    # Held up past the turn of the hour (an outage, say): written late.
    await install.requested(me, YESTERDAY, written_at=NOW)

    assert first == {"requests": 1, "settled": True}
    assert (everyone, kept) == (first, first)
    assert await install.yesterday(caller(me)) == {"requests": 3, "settled": True}
    assert await install.yesterday(ADMIN) == {"requests": 3, "settled": True}


async def test_a_late_request_of_another_client_leaves_a_clients_answer_kept(
    install: Installation,
) -> None:
    me, other = uuid4(), uuid4()
    await install.yesterday(caller(me))
    install.sneak_in(me, YESTERDAY)

    await install.requested(other, YESTERDAY, written_at=NOW)

    assert await install.yesterday(caller(me)) == {"requests": 0, "settled": True}
    assert await install.yesterday(ADMIN) == {"requests": 2, "settled": True}


async def test_live_requests_ask_nothing_of_the_cache(install: Installation) -> None:
    for _ in range(3):
        await install.requested(uuid4(), NOW, written_at=NOW + timedelta(seconds=1))

    assert install.cache.invalidated == []


async def test_a_request_of_the_hour_before_is_late(install: Installation) -> None:
    """Answered at 21:59:59.9, written at 22:00:00.2: a range ending at 22:00 may be settled
    and kept by then."""
    at = NOW.replace(minute=59, second=59, microsecond=900_000)

    await install.requested(uuid4(), at, written_at=at + timedelta(seconds=0.3))

    assert any(tag.endswith(":d:2025-03-30") for tag in install.cache.invalidated)


async def test_a_range_with_today_in_it_is_kept_for_the_open_ttl_at_most(
    install: Installation,
) -> None:
    me = uuid4()
    first = await install.daily(DailyUsage(actor=caller(me)))
    await install.requested(me, NOW, written_at=NOW)
    install.clock.advance(timedelta(seconds=10))
    kept = await install.daily(DailyUsage(actor=caller(me)))
    install.clock.advance(timedelta(seconds=6))
    afresh = await install.daily(DailyUsage(actor=caller(me)))

    assert (first.settled, first.max_age, kept.max_age) == (False, 15, 5)
    assert kept.body == first.body
    assert json.loads(afresh.body)["days"][-1]["requests"] == 1


async def test_the_top_clients_of_a_settled_range_are_kept_until_a_late_request(
    install: Installation,
) -> None:
    busy, quiet = uuid4(), uuid4()
    await install.requested(busy, YESTERDAY, written_at=YESTERDAY)
    first = await install.top_of_yesterday()
    install.sneak_in(quiet, YESTERDAY)
    kept = await install.top_of_yesterday()

    await install.requested(quiet, YESTERDAY, written_at=NOW)

    assert first == kept == [(str(busy), 1)]
    assert await install.top_of_yesterday() == [(str(quiet), 2), (str(busy), 1)]


async def test_the_default_top_clients_are_of_the_last_24_hours_and_open(
    install: Installation,
) -> None:
    answer = await install.top(TopClients(actor=ADMIN))

    assert (answer.settled, answer.max_age) == (False, 15)
    assert json.loads(answer.body)["till"] == "2025-03-30T21:30:00Z"


async def test_days_dropped_past_retention_drop_every_usage_answer(
    install: Installation,
) -> None:
    me = uuid4()
    long_ago = NOW - timedelta(days=40)
    install.sneak_in(me, long_ago)  # a row of a day past retention, once upkeep runs
    install.clock.current = long_ago
    assert await install.log.write()  # upkeep of that day: nothing to drop yet
    install.clock.current = NOW
    day = long_ago.date().isoformat()
    query = DailyUsage(
        actor=caller(me), first=day, till=(long_ago.date() + timedelta(days=1)).isoformat()
    )
    before = json.loads((await install.daily(query)).body)["days"][0]["requests"]

    assert await install.log.write()  # today's upkeep drops the days past retention

    after = json.loads((await install.daily(query)).body)["days"][0]["requests"]
    assert (before, after) == (1, 0)
    assert "usage:*" in install.cache.invalidated
