"""The rate limiter's contract: counted in this process or in Redis, the same decisions."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from tracking.adapters.memory.rate_limiter import InMemoryRateLimiter
from tracking.adapters.redis.connection import redis_client
from tracking.adapters.redis.rate_limiter import RedisRateLimiter
from tracking.application.ports import RateLimiter
from tracking.domain.limits import EVENTS, REQUESTS, Charge, Limit

# 10 s into a minute, so a test never straddles a window it did not mean to.
T0 = 1_790_000_000.0 - 1_790_000_000.0 % 60 + 10


class Time:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def time_now() -> Time:
    return Time()


@pytest.fixture(params=["memory", "redis"])
async def limiter(
    request: pytest.FixtureRequest, time_now: Callable[[], float]
) -> AsyncIterator[RateLimiter]:
    if request.param == "memory":
        yield InMemoryRateLimiter(now=time_now)
        return
    redis = redis_client(request.getfixturevalue("redis_url"), 1.0)
    yield RedisRateLimiter(redis, InMemoryRateLimiter(now=time_now), now=time_now)
    await redis.aclose()


def requests(subject: str, cost: int = 1, quota: int = 3) -> Charge:
    return Charge(limit=Limit(REQUESTS, quota), subject=subject, cost=cost)


def events(subject: str, cost: int, quota: int = 10) -> Charge:
    return Charge(limit=Limit(EVENTS, quota), subject=subject, cost=cost)


def subject() -> str:
    return str(uuid.uuid4())


async def test_admits_exactly_the_quota_then_refuses(limiter: RateLimiter) -> None:
    shop = subject()
    decisions = [await limiter.acquire([requests(shop)]) for _ in range(4)]

    assert [d.admitted for d in decisions] == [True, True, True, False]
    assert [d.states[0].remaining for d in decisions] == [2, 1, 0, 0]
    assert all(d.states[0].reset_seconds == 50 for d in decisions)
    refused = decisions[-1].refused_by
    assert refused is not None
    assert refused.limit.name == REQUESTS


async def test_a_decision_is_all_or_nothing(limiter: RateLimiter) -> None:
    shop = subject()
    assert (await limiter.acquire([requests(shop), events(shop, 8)])).admitted

    refused = await limiter.acquire([requests(shop), events(shop, 3)])

    assert not refused.admitted
    assert refused.refused_by is not None
    assert refused.refused_by.limit.name == EVENTS
    # The refused batch's request was not counted either: two requests are left, two events.
    after = await limiter.acquire([requests(shop), events(shop, 2)])
    assert after.admitted
    assert [s.remaining for s in after.states] == [1, 0]


async def test_a_cost_beyond_the_quota_never_fits_and_counts_nothing(
    limiter: RateLimiter,
) -> None:
    shop = subject()
    assert not (await limiter.acquire([events(shop, 11)])).admitted
    assert (await limiter.acquire([events(shop, 10)])).admitted


async def test_the_next_window_starts_afresh(limiter: RateLimiter, time_now: Time) -> None:
    shop = subject()
    for _ in range(3):
        await limiter.acquire([requests(shop)])
    time_now.now = T0 + 49.5
    assert not (await limiter.acquire([requests(shop)])).admitted

    time_now.now = T0 + 50
    fresh = await limiter.acquire([requests(shop)])

    assert fresh.admitted
    assert (fresh.states[0].remaining, fresh.states[0].reset_seconds) == (2, 60)


async def test_subjects_are_counted_apart(limiter: RateLimiter) -> None:
    shop, blog = subject(), subject()
    for _ in range(3):
        await limiter.acquire([requests(shop)])
    assert (await limiter.acquire([requests(blog)])).admitted


async def test_concurrent_decisions_admit_exactly_the_quota(limiter: RateLimiter) -> None:
    shop = subject()
    decisions = await asyncio.gather(
        *(limiter.acquire([requests(shop, quota=20)]) for _ in range(60))
    )
    assert sum(d.admitted for d in decisions) == 20


async def test_concurrent_decisions_of_many_subjects_are_each_exact(
    limiter: RateLimiter,
) -> None:
    quotas = {subject(): quota for quota in (1, 5, 10, 20)}
    calls = [(s, q) for s, q in quotas.items() for _ in range(3 * q)]
    decisions = await asyncio.gather(
        *(limiter.acquire([requests(s, quota=q), events(s, 1, quota=100)]) for s, q in calls)
    )
    admitted = dict.fromkeys(quotas, 0)
    for (s, _), decision in zip(calls, decisions, strict=True):
        admitted[s] += decision.admitted
    assert admitted == quotas
