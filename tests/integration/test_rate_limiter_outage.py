"""Redis stopped under the limiter: each process decides locally with its share of a limit,
says so once, and goes back to Redis on its own when it answers again."""

import asyncio
import logging
import uuid
from pathlib import Path

import pytest

from tests.redis_server import RedisServer
from tracking.adapters.memory.rate_limiter import DECISIONS, InMemoryRateLimiter
from tracking.adapters.redis import rate_limiter
from tracking.adapters.redis.connection import redis_client
from tracking.adapters.redis.rate_limiter import RedisRateLimiter
from tracking.domain.limits import REQUESTS, Charge, Limit


def decisions(mode: str) -> float:
    return sum(
        float(DECISIONS.labels(mode, outcome)._value.get()) for outcome in ("admitted", "refused")
    )


def charge(subject: str) -> list[Charge]:
    return [Charge(limit=Limit(REQUESTS, 10), subject=subject, cost=1)]


async def test_redis_down_means_local_shares_and_back_when_it_returns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rate_limiter, "RETRY_SECONDS", 0.05)
    server = RedisServer(tmp_path)
    redis = redis_client(server.url, 0.5)

    def now() -> float:  # mid-minute, whenever the test runs: no window ends during it
        return 1_790_000_010.0 - 1_790_000_010.0 % 60 + 10

    limiter = RedisRateLimiter(redis, InMemoryRateLimiter(share=2, now=now), now=now)
    subject = str(uuid.uuid4())
    try:
        assert (await limiter.acquire(charge(subject))).states[0].remaining == 9
        server.stop()
        local_before = decisions("local")

        with caplog.at_level(logging.WARNING, logger="tracking.adapters.outages"):
            down = [await limiter.acquire(charge(subject)) for _ in range(6)]

        # Half of the limit (two processes share it), counted afresh in this process.
        assert [d.admitted for d in down] == [True] * 5 + [False]
        assert decisions("local") - local_before == 6
        assert sum("redis unavailable" in r.message for r in caplog.records) == 1

        server.start()
        await asyncio.sleep(0.1)
        back = await limiter.acquire(charge(subject))
        assert back.admitted
        # Redis kept nothing across its restart (no persistence): counting starts again there.
        assert back.states[0].remaining == 9
    finally:
        await redis.aclose()
        server.stop()
