"""Shared state (rate limits, caches, client changes): Redis when there is one, else this
process. `TRACKING_REDIS_URL` names one; without it, processes sharing the embedded data
directory share an embedded Redis started there (as PostgreSQL is); with memory storage or
an external database and no Redis, each process keeps its own."""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Collection
from uuid import UUID

from redis.asyncio import Redis

from tracking.adapters.memory.cache import InMemoryCache
from tracking.adapters.memory.client_changes import LocalClientChanges
from tracking.adapters.memory.rate_limiter import InMemoryRateLimiter
from tracking.adapters.memory.stream import InMemoryEventFeed
from tracking.adapters.redis.cache import RedisCache
from tracking.adapters.redis.check import RedisCheck
from tracking.adapters.redis.client_changes import opened_client_changes
from tracking.adapters.redis.connection import redis_client, subscriber_client
from tracking.adapters.redis.embedded import EmbeddedRedis
from tracking.adapters.redis.feed import opened_event_feed
from tracking.adapters.redis.rate_limiter import RedisRateLimiter
from tracking.application.ports import (
    Cache,
    ClientChanges,
    DependencyCheck,
    EventFeed,
    RateLimiter,
)
from tracking.settings import Settings

log = logging.getLogger(__name__)


async def reachable_redis(settings: Settings) -> AsyncIterator[str | None]:
    """The Redis URL to use, or None for none. An embedded Redis that cannot start is not
    fatal: Redis is never the system of record, so this process then keeps its own."""
    if settings.redis_url is not None:
        yield settings.redis_url
        return
    if settings.storage_kind != "embedded":
        yield None
        return
    embedded = EmbeddedRedis(settings.data_dir)
    try:
        url = await asyncio.to_thread(embedded.start)
    except Exception as error:  # noqa: BLE001 - whatever went wrong, serve without it
        log.warning(
            "cannot start the embedded Redis in %s (%s): rate limits and caches stay in "
            "this process",
            settings.data_dir,
            error,
        )
        yield None
        return
    try:
        yield url
    finally:
        await asyncio.to_thread(embedded.stop)


async def opened_redis(url: str | None, settings: Settings) -> AsyncIterator[Redis | None]:
    async for client in _opened(url, lambda u: redis_client(u, _timeout(settings))):
        yield client


async def opened_subscriber(url: str | None, settings: Settings) -> AsyncIterator[Redis | None]:
    async for client in _opened(url, lambda u: subscriber_client(u, _timeout(settings))):
        yield client


async def _opened(url: str | None, client: Callable[[str], Redis]) -> AsyncIterator[Redis | None]:
    if url is None:
        yield None
        return
    redis = client(url)
    try:
        yield redis
    finally:
        await redis.aclose()


def _timeout(settings: Settings) -> float:
    return settings.redis_timeout_ms / 1000


def rate_limiter(redis: Redis | None, settings: Settings) -> RateLimiter:
    if redis is None:
        return InMemoryRateLimiter()
    return RedisRateLimiter(redis, InMemoryRateLimiter(share=settings.rate_limit_processes))


def cache(redis: Redis | None, settings: Settings) -> Cache:
    if redis is None:
        return InMemoryCache(max_entries=settings.cache_max_entries)
    return RedisCache(redis)


async def client_changes(
    redis: Redis | None,
    subscriber: Redis | None,
    forget: Callable[[Collection[UUID]], None],
    forget_all: Callable[[], None],
) -> AsyncIterator[ClientChanges]:
    if redis is None or subscriber is None:
        yield LocalClientChanges(forget)
        return
    async for changes in opened_client_changes(redis, subscriber, forget, forget_all):
        yield changes


async def event_feed(
    redis: Redis | None, subscriber: Redis | None, gather_ms: int
) -> AsyncIterator[EventFeed]:
    if redis is None or subscriber is None:
        yield InMemoryEventFeed(gather_ms / 1000)
        return
    async for feed in opened_event_feed(redis, subscriber, gather_ms / 1000):
        yield feed


def redis_checks(redis: Redis | None) -> list[DependencyCheck]:
    return [] if redis is None else [RedisCheck(redis)]
