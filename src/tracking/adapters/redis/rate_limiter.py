"""Rate limits counted in Redis: one atomic script run decides, so every process and replica
sharing the Redis admits exactly the limit per window between them.

Concurrent decisions of a process go together (`pipelined.Rounds`): each round sends one
script run per client, deciding that client's requests in turn, so a round touches one
Redis Cluster slot per script (keys are hash-tagged by client).

While Redis does not answer, each process decides locally with its share of every limit
(`InMemoryRateLimiter(share=N)`): no request fails or waits for Redis. It asks Redis again
after `RETRY_SECONDS`, and goes back to it as soon as it answers."""

import hashlib
import time
from collections.abc import Callable, Sequence

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError

from tracking.adapters.memory.rate_limiter import InMemoryRateLimiter, counted
from tracking.adapters.outages import REDIS
from tracking.adapters.redis.pipelined import Rounds
from tracking.application.ports import RateLimiter
from tracking.domain.limits import Admission, Charge, admission

RETRY_SECONDS = 1.0

# `decide` of domain/limits.py, in Lua, for several decisions in turn. KEYS: one counter per
# charge (its window in the name), decision after decision. ARGV: the number of decisions,
# then for each its number of charges and, per charge, quota, cost and expiry (seconds).
# Returns, per decision, 1 or 0 (admitted) and then each counter's value after it.
_DECIDE = """
local out, k, a = {}, 1, 2
for _ = 1, tonumber(ARGV[1]) do
  local n, used, fits = tonumber(ARGV[a]), {}, 1
  a = a + 1
  for i = 0, n - 1 do
    used[i] = tonumber(redis.call('GET', KEYS[k + i]) or '0')
    if used[i] + tonumber(ARGV[a + 3 * i + 1]) > tonumber(ARGV[a + 3 * i]) then fits = 0 end
  end
  if fits == 1 then
    for i = 0, n - 1 do
      local cost = tonumber(ARGV[a + 3 * i + 1])
      if cost > 0 then
        used[i] = redis.call('INCRBY', KEYS[k + i], cost)
        if used[i] == cost then redis.call('EXPIRE', KEYS[k + i], ARGV[a + 3 * i + 2]) end
      end
    end
  end
  out[#out + 1] = fits
  for i = 0, n - 1 do out[#out + 1] = used[i] end
  k, a = k + n, a + 3 * n
end
return out
"""
_SHA = hashlib.sha1(_DECIDE.encode(), usedforsecurity=False).hexdigest()

Decision = tuple[Sequence[Charge], float]
"""The charges of one decision, and the time it is made at."""


def counter_key(charge: Charge, now: float) -> str:
    """Hash-tagged by subject: one client's counters share a Redis Cluster slot."""
    return f"tracking:rl:{{{charge.subject}}}:{charge.limit.name}:{charge.window(now)}"


class RedisRateLimiter(RateLimiter):
    def __init__(
        self, redis: Redis, fallback: InMemoryRateLimiter, now: Callable[[], float] = time.time
    ) -> None:
        self._redis = redis
        self._rounds: Rounds[Decision, Admission] = Rounds(self._round)
        self._fallback = fallback
        self._now = now
        self._retry_at = 0.0

    async def acquire(self, charges: Sequence[Charge]) -> Admission:
        if time.monotonic() >= self._retry_at:
            try:
                decision = await self._rounds((charges, self._now()))
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

    async def _round(self, decisions: Sequence[Decision]) -> list[Admission | BaseException]:
        """One script run per subject, all in one pipeline."""
        by_subject: dict[str, list[int]] = {}
        for index, (charges, _) in enumerate(decisions):
            by_subject.setdefault(charges[0].subject, []).append(index)
        groups = list(by_subject.values())
        replies = await self._pipelined(decisions, groups)
        if any(isinstance(r, NoScriptError) for r in replies):
            # Redis restarted and forgot the script: load it, and send the round again.
            await self._redis.script_load(_DECIDE)
            replies = await self._pipelined(decisions, groups)
        answers: list[Admission | BaseException] = [RedisError("no answer")] * len(decisions)
        for group, reply in zip(groups, replies, strict=True):
            for index, answer in zip(group, _answers(decisions, group, reply), strict=True):
                answers[index] = answer
        return answers

    async def _pipelined(
        self, decisions: Sequence[Decision], groups: list[list[int]]
    ) -> list[object]:
        pipeline = self._redis.pipeline(transaction=False)
        for group in groups:
            keys: list[str] = []
            args: list[int] = [len(group)]
            for charges, now in (decisions[i] for i in group):
                args.append(len(charges))
                for charge in charges:
                    keys.append(counter_key(charge, now))
                    args += [charge.limit.quota, charge.cost, charge.limit.window_seconds + 1]
            pipeline.evalsha(_SHA, len(keys), *keys, *args)
        replies: list[object] = await pipeline.execute(raise_on_error=False)
        return replies


def _answers(
    decisions: Sequence[Decision], group: list[int], reply: object
) -> list[Admission | BaseException]:
    if isinstance(reply, BaseException):
        return [reply] * len(group)
    if not isinstance(reply, list):
        return [RedisError(f"the script answered {reply!r}")] * len(group)
    answers: list[Admission | BaseException] = []
    at = 0
    for charges, now in (decisions[i] for i in group):
        fits, used = reply[at], [int(u) for u in reply[at + 1 : at + 1 + len(charges)]]
        answers.append(admission(charges, used, admitted=fits == 1, now=now))
        at += 1 + len(charges)
    return answers
