"""The cache port's contract: the in-memory and the Redis adapter pass the same tests. Then
what only Redis has to show: tag sets that do not outlive their use, and outages ridden out
(its unit-only cousin, LRU and the tag index of the in-memory one: tests/unit)."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import pytest
from redis.asyncio import Redis

from tests.redis_server import RedisServer
from tests.sockets import free_port
from tracking.adapters.memory.cache import InMemoryCache
from tracking.adapters.prometheus import REGISTRY
from tracking.adapters.redis.cache import GRACE_MS, RedisCache
from tracking.adapters.redis.connection import redis_client
from tracking.application.ports import Cache


class ManualClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Subject:
    cache: Cache
    elapse: Callable[[float], Awaitable[None]]
    """Lets that many seconds pass for the cache: its clock moved, or a real wait."""


@pytest.fixture(params=["memory", "redis"])
async def subject(request: pytest.FixtureRequest) -> AsyncIterator[Subject]:
    if request.param == "memory":
        clock = ManualClock()

        async def move(seconds: float) -> None:
            clock.now += seconds

        yield Subject(InMemoryCache(max_entries=10_000, clock=clock), move)
        return
    client = redis_client(request.getfixturevalue("redis_url"), timeout_seconds=2)
    yield Subject(RedisCache(client, namespace=f"test:{uuid4()}:"), asyncio.sleep)
    await client.aclose()


async def present(cache: Cache, *keys: str) -> set[str]:
    return {key for key in keys if await cache.get(key) is not None}


async def test_a_value_set_is_got_back(subject: Subject) -> None:
    await subject.cache.set("user:1", b"\x00binary\xff", 60)
    assert await subject.cache.get("user:1") == b"\x00binary\xff"


async def test_a_key_never_set_misses(subject: Subject) -> None:
    assert await subject.cache.get("nobody") is None


async def test_an_entry_lives_for_its_ttl_and_an_overwrite_replaces_it(subject: Subject) -> None:
    cache = subject.cache
    await cache.set("short", b"1", 0.2)
    await cache.set("long", b"2", 60)
    await cache.set("renewed", b"old", 0.2)
    await cache.set("renewed", b"new", 60)
    assert await cache.get("short") == b"1"

    await subject.elapse(0.25)

    assert await cache.get("short") is None
    assert await cache.get("long") == b"2"
    assert await cache.get("renewed") == b"new"


async def test_a_ttl_of_zero_keeps_nothing(subject: Subject) -> None:
    await subject.cache.set("k", b"old", 60)
    await subject.cache.set("k", b"new", 0)
    assert await subject.cache.get("k") is None


async def test_delete_drops_that_entry_only(subject: Subject) -> None:
    cache = subject.cache
    await cache.set("a", b"1", 60)
    await cache.set("b", b"2", 60)
    await cache.delete("a")
    await cache.delete("never-set")
    assert await present(cache, "a", "b") == {"b"}


async def test_invalidate_prefix_drops_the_keys_it_starts(subject: Subject) -> None:
    cache = subject.cache
    keys = ["user:1:a", "user:1:b", "user:10:a", "user:2:a", "other:user:1:"]
    for key in keys:
        await cache.set(key, b"v", 60, tags=["t"])
    await cache.invalidate_prefix("user:1:")
    assert await present(cache, *keys) == {"user:10:a", "user:2:a", "other:user:1:"}


@pytest.mark.parametrize(
    ("prefix", "bystander"),
    [("p*", "pq1"), ("p?", "pq1"), ("p[q]", "pq1"), ("p\\", "p*")],
    ids=["star", "question-mark", "brackets", "backslash"],
)
async def test_a_prefix_is_literal(subject: Subject, prefix: str, bystander: str) -> None:
    # Each bystander is a key the prefix would match as a glob.
    await subject.cache.set(prefix + "1", b"v", 60)
    await subject.cache.set(bystander, b"v", 60)
    await subject.cache.invalidate_prefix(prefix)
    assert await present(subject.cache, prefix + "1", bystander) == {bystander}


async def test_invalidate_prefix_reaches_every_key_however_many(subject: Subject) -> None:
    keys = [f"many:{i}" for i in range(1_200)]
    for key in keys:
        await subject.cache.set(key, b"v", 60)
    await subject.cache.invalidate_prefix("many:")
    assert await present(subject.cache, *keys) == set()


async def test_invalidate_tag_drops_the_entries_set_with_it(subject: Subject) -> None:
    cache = subject.cache
    await cache.set("a", b"1", 60, tags=["shop:1"])
    await cache.set("b", b"2", 60, tags=["shop:2"])
    await cache.set("c", b"3", 60, tags=["shop:1", "admin"])
    await cache.set("d", b"4", 60)
    await cache.invalidate_tag("shop:1")
    await cache.invalidate_tag("never-used")
    assert await present(cache, "a", "b", "c", "d") == {"b", "d"}

    await cache.set("a", b"again", 60, tags=["shop:1"])
    await cache.invalidate_tag("shop:1")
    assert await cache.get("a") is None


@pytest.mark.parametrize("tag", ["shop:1", "admin"])
async def test_an_entry_with_two_tags_goes_by_either(subject: Subject, tag: str) -> None:
    await subject.cache.set("c", b"3", 60, tags=["shop:1", "admin"])
    await subject.cache.invalidate_tag(tag)
    assert await subject.cache.get("c") is None


async def test_invalidate_tags_drops_the_entries_of_any_of_them(subject: Subject) -> None:
    cache = subject.cache
    await cache.set("a", b"1", 60, tags=["day:1"])
    await cache.set("b", b"2", 60, tags=["day:2", "month:1"])
    await cache.set("c", b"3", 60, tags=["day:3"])
    await cache.set("d", b"4", 60)
    await cache.invalidate_tags(["day:1", "month:1", "never-used"])
    await cache.invalidate_tags([])
    assert await present(cache, "a", "b", "c", "d") == {"c", "d"}


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = redis_client(redis_url, timeout_seconds=2)
    yield client
    await client.aclose()


async def test_a_redis_tag_set_outlives_its_longest_entry(redis: Redis) -> None:
    namespace = f"test:{uuid4()}:"
    cache = RedisCache(redis, namespace=namespace)
    await cache.set("long", b"1", 60, tags=["t"])
    await cache.set("short", b"2", 1, tags=["t"])
    assert await redis.pttl(f"{namespace}tag:t") > 59_000


async def test_a_redis_tag_set_forgets_entries_that_expired(redis: Redis) -> None:
    namespace = f"test:{uuid4()}:"
    cache = RedisCache(redis, namespace=namespace)
    await cache.set("kept", b"1", 60, tags=["t"])
    await cache.set("old", b"2", 0.05, tags=["t"])
    await asyncio.sleep(0.1 + GRACE_MS / 1000)
    await cache.set("new", b"3", 60, tags=["t"])
    members = await redis.zrange(f"{namespace}tag:t", 0, -1)
    assert set(members) == {f"{namespace}entry:{key}".encode() for key in ("kept", "new")}


async def test_a_redis_client_that_decodes_responses_is_refused(redis_url: str) -> None:
    client = Redis.from_url(redis_url, decode_responses=True)
    with pytest.raises(ValueError, match="must not decode"):
        RedisCache(client)
    await client.aclose()


def redis_failures() -> float:
    count = REGISTRY.get_sample_value("tracking_dependency_failures_total", {"dependency": "redis"})
    return count or 0.0


async def test_an_unreachable_redis_misses_and_never_raises() -> None:
    client = redis_client(f"redis://127.0.0.1:{free_port()}/0", timeout_seconds=0.2)
    cache = RedisCache(client, namespace=f"test:{uuid4()}:")
    before = redis_failures()

    await cache.set("k", b"v", 60, tags=["t"])
    assert await cache.get("k") is None
    await cache.delete("k")
    await cache.invalidate_prefix("k")
    await cache.invalidate_tag("t")
    await cache.invalidate_tags(["t", "u"])

    assert redis_failures() - before == 6
    await client.aclose()


async def test_the_cache_works_again_once_redis_is_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tracking.adapters.outages")
    server = await asyncio.to_thread(RedisServer, tmp_path)
    client = redis_client(server.url, timeout_seconds=0.5)
    cache = RedisCache(client, namespace=f"test:{uuid4()}:")
    try:
        await cache.set("k", b"before", 60, tags=["t"])
        assert await cache.get("k") == b"before"

        await asyncio.to_thread(server.stop)
        assert await cache.get("k") is None
        await cache.set("k", b"during", 60, tags=["t"])
        await cache.invalidate_tag("t")
        caplog.clear()

        await asyncio.to_thread(server.start)
        await cache.set("k", b"after", 60, tags=["t"])
        assert await cache.get("k") == b"after"
        assert "redis available again" in caplog.text
        await cache.invalidate_tag("t")
        assert await cache.get("k") is None

        # Restarted while idle: the one operation on the stale pooled connection misses.
        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(server.start)
        await cache.set("k", b"idle", 60)
        await cache.set("k", b"idle", 60)
        assert await cache.get("k") == b"idle"
    finally:
        await client.aclose()
        await asyncio.to_thread(server.stop)
