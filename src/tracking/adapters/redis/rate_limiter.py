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

# `decide` of domain/limits.py, in Lua, for several decisions alike (one client's counters,
# the same limits) in turn. KEYS: the counters (their window in the name). ARGV: each one's
# quota and expiry (seconds), then the decisions' costs, "c1,c2;c1,c2;...". Returns, per
# decision, "admitted(1|0),count1,count2" after it, joined by ";". Strings both ways, since
# the client packs and parses them far faster than long lists of numbers.
_DECIDE = """
local n, used, added = #KEYS, {}, {}
for j = 1, n do
  used[j], added[j] = tonumber(redis.call('GET', KEYS[j]) or '0'), 0
end
local out = {}
for decision in string.gmatch(ARGV[2 * n + 1], '[^;]+') do
  local costs, fits = {}, 1
  for cost in string.gmatch(decision, '[^,]+') do costs[#costs + 1] = tonumber(cost) end
  for j = 1, n do
    if used[j] + costs[j] > tonumber(ARGV[2 * j - 1]) then fits = 0 end
  end
  if fits == 1 then
    for j = 1, n do used[j], added[j] = used[j] + costs[j], added[j] + costs[j] end
  end
  out[#out + 1] = fits .. ',' .. table.concat(used, ',')
end
for j = 1, n do
  if added[j] > 0 and redis.call('INCRBY', KEYS[j], added[j]) == added[j] then
    redis.call('EXPIRE', KEYS[j], ARGV[2 * j])
  end
end
return table.concat(out, ';')
"""
_SHA = hashlib.sha1(_DECIDE.encode(), usedforsecurity=False).hexdigest()

Decision = tuple[Sequence[Charge], float]
"""The charges of one decision, and the time it is made at."""
Alike = tuple[tuple[str, int], ...]
"""What decisions sent in one script run share: each charge's counter and quota."""


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
        """One script run per group of decisions alike, all in one pipeline."""
        groups: dict[Alike, list[int]] = {}
        for index, (charges, now) in enumerate(decisions):
            alike = tuple((counter_key(c, now), c.limit.quota) for c in charges)
            groups.setdefault(alike, []).append(index)
        replies = await self._pipelined(decisions, groups)
        if any(isinstance(r, NoScriptError) for r in replies):
            # Redis restarted and forgot the script: load it, and send the round again.
            await self._redis.script_load(_DECIDE)
            replies = await self._pipelined(decisions, groups)
        answers: list[Admission | BaseException] = [RedisError("no answer")] * len(decisions)
        for group, reply in zip(groups.values(), replies, strict=True):
            for index, answer in zip(group, _answers(decisions, group, reply), strict=True):
                answers[index] = answer
        return answers

    async def _pipelined(
        self, decisions: Sequence[Decision], groups: dict[Alike, list[int]]
    ) -> list[object]:
        pipeline = self._redis.pipeline(transaction=False)
        for alike, group in groups.items():
            charges = decisions[group[0]][0]
            args: list[int | str] = []
            for charge in charges:
                args += [charge.limit.quota, charge.limit.window_seconds + 1]
            args.append(";".join(",".join(str(c.cost) for c in decisions[i][0]) for i in group))
            keys = [key for key, _ in alike]
            pipeline.evalsha(_SHA, len(keys), *keys, *args)
        replies: list[object] = await pipeline.execute(raise_on_error=False)
        return replies


def _answers(
    decisions: Sequence[Decision], group: list[int], reply: object
) -> list[Admission | BaseException]:
    if isinstance(reply, BaseException):
        return [reply] * len(group)
    if not isinstance(reply, bytes):
        return [RedisError(f"the script answered {reply!r}")] * len(group)
    answers: list[Admission | BaseException] = []
    for index, outcome in zip(group, reply.split(b";"), strict=True):
        charges, now = decisions[index]
        fits, *used = (int(part) for part in outcome.split(b","))
        answers.append(admission(charges, used, admitted=fits == 1, now=now))
    return answers
