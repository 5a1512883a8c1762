"""A cache in Redis, shared by every process. It never fails its caller: while Redis does not
answer, `get` misses and the rest do nothing (each failure counted, the outage logged once).

Keys: each entry at `<namespace>entry:<key>`, each tag at `<namespace>tag:<tag>`; the two
spaces apart so that no key can be taken for a tag, nor a tag dropped by `invalidate_prefix`.

A tag is a sorted set of its entries' Redis keys, each scored with the time (Redis' clock,
in ms) its entry expires. Adding to it first drops the members whose entries expired, so a
tag set with entries forever does not grow forever, and extends the set's own expiry to
outlive its longest entry. A key overwritten without a tag stays in that tag's set until its
old score passes: the tag may drop it meanwhile, a miss, never a stale answer."""

import math
from collections.abc import Awaitable, Collection
from typing import TypeVar, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from tracking.adapters.cache_lookups import counted
from tracking.adapters.outages import REDIS
from tracking.application.ports import Cache

T = TypeVar("T")

GRACE_MS = 250
"""How long a member outlives its score: the entry's own SET runs just after the script
that scored it, so it expires a little later."""

_SCAN_COUNT = 500

# KEYS[1]: a tag's set. ARGV: the entry's Redis key, its lifetime (ms), GRACE_MS.
_TAG = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local ttl, grace = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - grace)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl + grace then
  redis.call('PEXPIRE', KEYS[1], ttl + grace)
end
"""

# KEYS[1]: a tag's set. Its members are keys too, not declared: under Redis Cluster they
# would have to share the tag's slot. `unpack` takes a few thousand values at most, hence
# the chunks.
_DROP_TAG = """
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
for first = 1, #members, 1000 do
  redis.call('UNLINK', unpack(members, first, math.min(first + 999, #members)))
end
redis.call('UNLINK', KEYS[1])
return #members
"""


def glob_escaped(text: str) -> str:
    """`text` as a literal in a Redis MATCH pattern."""
    return "".join("\\" + char if char in "\\*?[]" else char for char in text)


class RedisCache(Cache):
    def __init__(self, redis: Redis, namespace: str = "tracking:cache:") -> None:
        if redis.connection_pool.connection_kwargs.get("decode_responses"):
            raise ValueError("RedisCache keeps bytes: its client must not decode responses")
        self._redis = redis
        self._namespace = namespace
        self._drop_tag = redis.register_script(_DROP_TAG)

    async def get(self, key: str) -> bytes | None:
        value = await self._attempt(self._redis.get(self._entry(key)))
        # Never a str: the constructor refused a client that decodes. While Redis is down, a
        # miss, counted as one: the caller computes the answer afresh.
        return counted(cast("bytes | None", value))

    async def set(
        self, key: str, value: bytes, ttl_seconds: float, tags: Collection[str] = ()
    ) -> None:
        if ttl_seconds <= 0:
            await self.delete(key)
            return
        await self._attempt(
            self._write(self._entry(key), value, math.ceil(ttl_seconds * 1000), tags)
        )

    async def delete(self, key: str) -> None:
        await self._attempt(self._redis.unlink(self._entry(key)))

    async def invalidate_prefix(self, prefix: str) -> None:
        await self._attempt(self._unlink_matching(glob_escaped(self._entry(prefix)) + "*"))

    async def invalidate_tag(self, tag: str) -> None:
        await self._attempt(self._drop_tag(keys=[self._tag(tag)]))

    async def invalidate_tags(self, tags: Collection[str]) -> None:
        if tags:
            await self._attempt(self._drop_tags(tags))

    def _entry(self, key: str) -> str:
        return f"{self._namespace}entry:{key}"

    def _tag(self, tag: str) -> str:
        return f"{self._namespace}tag:{tag}"

    async def _write(self, name: str, value: bytes, ttl_ms: int, tags: Collection[str]) -> None:
        # One round trip, not one transaction: each command touches one key, as Redis Cluster
        # asks. The tags go first, so an entry is never stored where its tag cannot find it.
        # EVAL, not EVALSHA: a pipeline with a registered script asks first whether the
        # script is loaded, a second round trip each time.
        async with self._redis.pipeline(transaction=False) as pipe:
            for tag in tags:
                pipe.eval(_TAG, 1, self._tag(tag), name, ttl_ms, GRACE_MS)
            pipe.set(name, value, px=ttl_ms)
            await pipe.execute()

    async def _drop_tags(self, tags: Collection[str]) -> None:
        # One round trip, one script run per tag (each touching its tag's keys), EVAL for
        # the reason `_write` gives.
        async with self._redis.pipeline(transaction=False) as pipe:
            for tag in tags:
                pipe.eval(_DROP_TAG, 1, self._tag(tag))
            await pipe.execute()

    async def _unlink_matching(self, pattern: str) -> None:
        # SCAN, not KEYS: it does not hold Redis for the whole keyspace. A page's keys go in
        # one round trip, one UNLINK each: one key per command, as Redis Cluster asks.
        cursor = 0
        while True:
            cursor, names = await self._redis.scan(cursor, match=pattern, count=_SCAN_COUNT)
            if names:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for name in names:
                        pipe.unlink(name)
                    await pipe.execute()
            if cursor == 0:
                return

    async def _attempt(self, operation: Awaitable[T]) -> T | None:
        try:
            result = await operation
        except (RedisError, OSError) as error:
            REDIS.failed(error)
            return None
        REDIS.answered()
        return result
