"""The live stream across processes: each committed batch published on its client's channel
(`tracking:stream:<client id>`), and every process listening on all of them for the clients
its subscribers follow.

Publishing never holds up a write: batches are queued and sent by one task, pipelined. A
message lost (Redis down, a queue overflow, a process killed between commit and publish) is
not an event lost: positions are dense, so a subscriber finds the hole, at the next message or
the next quiet heartbeat, and reads it from the journal."""

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from uuid import UUID

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from tracking.adapters.memory.stream import InMemoryEventFeed
from tracking.adapters.outages import REDIS
from tracking.application.ports import EventFeed
from tracking.application.stream import Inbox, Positioned, Published, Sequenced
from tracking.application.views import EventView

log = logging.getLogger(__name__)

PREFIX = "tracking:stream:"
MAX_QUEUED = 10_000
"""Batches waiting to be published; beyond, the oldest are dropped (and read from the journal)."""
RETRY_SECONDS = 1.0
SUBSCRIBE_WAIT_SECONDS = 2.0


class _WireEvent(msgspec.Struct, array_like=True):
    id: UUID
    user_id: str
    action: str
    occurred_at: datetime
    received_at: datetime
    metadata: msgspec.Raw


class _WireBatch(msgspec.Struct, array_like=True):
    first: int
    events: list[_WireEvent]


class _ReadEvent(msgspec.Struct, array_like=True):
    id: UUID
    user_id: str
    action: str
    occurred_at: datetime
    received_at: datetime
    metadata: dict[str, object]


class _ReadBatch(msgspec.Struct, array_like=True):
    first: int
    events: list[_ReadEvent]


_ENCODE = msgspec.json.Encoder().encode
_DECODE = msgspec.json.Decoder(_ReadBatch).decode


def encoded(batch: Sequenced) -> bytes:
    return _ENCODE(
        _WireBatch(
            batch.first,
            [
                _WireEvent(
                    e.id,
                    e.user_id,
                    e.action,
                    e.occurred_at,
                    e.received_at,
                    msgspec.Raw(e.metadata),  # JSON already
                )
                for e in batch.events
            ],
        )
    )


def decoded(data: bytes) -> Published:
    batch = _DECODE(data)
    return Published(
        Positioned(
            batch.first + i,
            EventView(
                id=e.id,
                user_id=e.user_id,
                action=e.action,
                occurred_at=e.occurred_at,
                received_at=e.received_at,
                metadata=e.metadata,
            ),
        )
        for i, e in enumerate(batch.events)
    )


class RedisEventFeed(EventFeed):
    def __init__(self, redis: Redis, gather_seconds: float = 0.0) -> None:
        """`gather_seconds`: as for the in-memory feed, which hands out what comes."""
        self._redis = redis
        self._local = InMemoryEventFeed(gather_seconds)
        self._queued: deque[Sequenced] = deque(maxlen=MAX_QUEUED)
        self._wake = asyncio.Event()
        self.subscribed = asyncio.Event()

    async def publish(self, sequenced: Sequence[Sequenced]) -> None:
        self._queued.extend(sequenced)
        self._wake.set()

    def subscribe(
        self, client_id: UUID, capacity: int
    ) -> contextlib.AbstractAsyncContextManager[Inbox]:
        return self._local.subscribe(client_id, capacity)

    async def send(self) -> None:
        """Until cancelled: what was queued, in order, a pipeline at a time."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queued:
                taken = [self._queued.popleft() for _ in range(min(len(self._queued), 500))]
                try:
                    async with self._redis.pipeline(transaction=False) as pipe:
                        for batch in taken:
                            pipe.publish(f"{PREFIX}{batch.client_id}", encoded(batch))
                        await pipe.execute()
                except (RedisError, OSError) as error:
                    REDIS.failed(error)  # the subscribers read these from the journal
                else:
                    REDIS.answered()

    async def listen(self, subscriber: Redis) -> None:
        """Until cancelled. `subscriber`: a client without a read timeout."""
        while True:
            try:
                async with subscriber.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.psubscribe(f"{PREFIX}*")
                    self.subscribed.set()
                    async for message in pubsub.listen():
                        self._deliver(message.get("channel"), message.get("data"))
            except Exception as error:  # noqa: BLE001 - whatever broke it, listen again
                self.subscribed.clear()
                REDIS.failed(error)
                await asyncio.sleep(RETRY_SECONDS)

    def _deliver(self, channel: object, data: object) -> None:
        if not isinstance(channel, bytes) or not isinstance(data, bytes):
            return
        try:
            client_id = UUID(channel.decode()[len(PREFIX) :])
        except ValueError:
            return
        if client_id not in self._local.listened():
            return
        try:
            events = decoded(data)
        except (msgspec.DecodeError, msgspec.ValidationError):
            log.warning("ignored a malformed stream message on %r", channel[:200])
            return
        self._local.deliver(client_id, events)


async def opened_event_feed(
    redis: Redis, subscriber: Redis, gather_seconds: float = 0.0
) -> AsyncIterator[RedisEventFeed]:
    """The feed, sending and listening (it waits, briefly, for its subscription)."""
    feed = RedisEventFeed(redis, gather_seconds)
    tasks = [asyncio.create_task(feed.send()), asyncio.create_task(feed.listen(subscriber))]
    try:
        await asyncio.wait_for(feed.subscribed.wait(), SUBSCRIBE_WAIT_SECONDS)
    except TimeoutError:
        log.warning("not subscribed to %s* yet: Redis does not answer", PREFIX)
    try:
        yield feed
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
