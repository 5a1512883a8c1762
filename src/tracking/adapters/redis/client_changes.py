"""Client changes told to every process through Redis pub/sub, so a rotated key, a
deactivation or new limits apply at once everywhere, not when each process's cache expires.

Each process forgets its own entries first, then publishes; every subscriber forgets on
receipt. A subscriber that lost its connection may have missed announcements: on every
(re)subscription it forgets everything it cached. While Redis is down, caches expire on their
own (`TRACKING_AUTH_CACHE_SECONDS`), as without Redis."""

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Collection
from uuid import UUID

from redis.asyncio import Redis
from redis.exceptions import RedisError

from tracking.adapters.outages import REDIS
from tracking.application.ports import ClientChanges

log = logging.getLogger(__name__)

CHANNEL = "tracking:clients:changed"
RETRY_SECONDS = 1.0
SUBSCRIBE_WAIT_SECONDS = 2.0


class RedisClientChanges(ClientChanges):
    def __init__(
        self,
        redis: Redis,
        forget: Callable[[Collection[UUID]], None],
        forget_all: Callable[[], None],
    ) -> None:
        self._redis = redis
        self._forget = forget
        self._forget_all = forget_all
        self.subscribed = asyncio.Event()

    async def announce(self, client_ids: Collection[UUID]) -> None:
        if not client_ids:
            return
        self._forget(client_ids)
        try:
            await self._redis.publish(CHANNEL, ",".join(str(c) for c in client_ids))
        except (RedisError, OSError) as error:
            REDIS.failed(error)
        else:
            REDIS.answered()

    async def listen(self, subscriber: Redis) -> None:
        """Until cancelled. `subscriber`: a client without a read timeout, since a channel
        may be quiet for hours."""
        while True:
            try:
                async with subscriber.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self._forget_all()
                    self.subscribed.set()
                    async for message in pubsub.listen():
                        self._apply(message.get("data"))
            except Exception as error:  # noqa: BLE001 - whatever broke it, listen again
                self.subscribed.clear()
                REDIS.failed(error)
                await asyncio.sleep(RETRY_SECONDS)

    def _apply(self, data: object) -> None:
        if not isinstance(data, bytes):
            return
        try:
            self._forget([uuid.UUID(part) for part in data.decode().split(",")])
        except ValueError:
            log.warning("ignored a malformed client change on %s: %r", CHANNEL, data[:200])


async def opened_client_changes(
    redis: Redis,
    subscriber: Redis,
    forget: Callable[[Collection[UUID]], None],
    forget_all: Callable[[], None],
) -> AsyncIterator[RedisClientChanges]:
    """The announcer, listening: it waits (briefly) for its first subscription, so a process
    that starts serving already hears the others."""
    changes = RedisClientChanges(redis, forget, forget_all)
    listening = asyncio.create_task(changes.listen(subscriber))
    try:
        await asyncio.wait_for(changes.subscribed.wait(), SUBSCRIBE_WAIT_SECONDS)
    except TimeoutError:
        log.warning("not subscribed to %s yet: Redis does not answer", CHANNEL)
    try:
        yield changes
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
