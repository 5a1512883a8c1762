"""Rate limits counted in Redis: one script run per decision, atomic, so every process and
replica sharing the Redis admits exactly the limit per window between them. Concurrent
decisions share round trips (`pipelined.py`).

While Redis does not answer, each process decides locally with its share of every limit
(`InMemoryRateLimiter(share=N)`): no request fails or waits for Redis. It asks Redis again
after `RETRY_SECONDS`, and goes back to it as soon as it answers."""

import time
from collections.abc import Callable, Sequence

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from tracking.adapters.memory.rate_limiter import InMemoryRateLimiter, counted
from tracking.adapters.outages import REDIS
from tracking.adapters.redis.pipelined import PipelinedScript
from tracking.application.ports import RateLimiter
from tracking.domain.limits import Admission, Charge, admission

RETRY_SECONDS = 1.0

# `decide` of domain/limits.py, in Lua. KEYS: one counter per charge (its window in the
# name). ARGV: quota, cost and expiry (seconds) of each, in turn. Returns 1 or 0 (admitted),
# then each counter's value after the decision.
_ACQUIRE = """
local used, fits = {}, 1
for i, key in ipairs(KEYS) do
  used[i] = tonumber(redis.call('GET', key) or '0')
  if used[i] + tonumber(ARGV[3 * i - 1]) > tonumber(ARGV[3 * i - 2]) then fits = 0 end
end
if fits == 1 then
  for i, key in ipairs(KEYS) do
    local cost = tonumber(ARGV[3 * i - 1])
    if cost > 0 then
      used[i] = redis.call('INCRBY', key, cost)
      if used[i] == cost then redis.call('EXPIRE', key, ARGV[3 * i]) end
    end
  end
end
return {fits, unpack(used)}
"""


def counter_key(charge: Charge, now: float) -> str:
    """Hash-tagged by subject: one client's counters share a Redis Cluster slot, so one
    script may touch them all."""
    return f"tracking:rl:{{{charge.subject}}}:{charge.limit.name}:{charge.window(now)}"


class RedisRateLimiter(RateLimiter):
    def __init__(
        self, redis: Redis, fallback: InMemoryRateLimiter, now: Callable[[], float] = time.time
    ) -> None:
        self._redis = redis
        self._script = PipelinedScript(redis, _ACQUIRE)
        self._fallback = fallback
        self._now = now
        self._retry_at = 0.0

    async def acquire(self, charges: Sequence[Charge]) -> Admission:
        if time.monotonic() >= self._retry_at:
            try:
                decision = await self._shared(charges)
            except (RedisError, OSError) as error:
                REDIS.failed(error)
                self._retry_at = time.monotonic() + RETRY_SECONDS
                if isinstance(error, RedisConnectionError):
                    # Pooled connections to a server that went away are all dead: the next
                    # try connects afresh rather than finding them out one by one. (A slow
                    # answer says nothing of the others.)
                    await self._redis.connection_pool.disconnect()
            else:
                REDIS.answered()
                return counted("redis", decision)
        return counted("local", self._fallback.decide(charges))

    async def _shared(self, charges: Sequence[Charge]) -> Admission:
        now = self._now()
        args: list[int] = []
        for charge in charges:
            expiry = charge.limit.window_seconds + 1
            args += [charge.limit.quota, charge.cost, expiry]
        keys = [counter_key(charge, now) for charge in charges]
        fits, *used = await self._script(keys, args)
        return admission(charges, [int(str(u)) for u in used], admitted=fits == 1, now=now)
