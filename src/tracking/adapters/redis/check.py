"""Redis in readiness: reported, never required. Without it the service degrades (each
process limits locally, nothing is shared) and goes on serving."""

from redis.asyncio import Redis

from tracking.application.ports import DependencyCheck


class RedisCheck(DependencyCheck):
    name = "redis"
    required = False

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def check(self) -> None:
        await self._redis.ping()
