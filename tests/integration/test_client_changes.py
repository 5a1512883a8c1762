"""Client changes: applied here at once by both adapters; through Redis pub/sub, what one
process announces every other forgets."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import AsyncExitStack
from pathlib import Path
from uuid import UUID

import pytest

from tests.redis_server import RedisServer
from tracking.adapters.memory.client_changes import LocalClientChanges
from tracking.adapters.redis import client_changes
from tracking.adapters.redis.client_changes import RedisClientChanges, opened_client_changes
from tracking.adapters.redis.connection import redis_client, subscriber_client
from tracking.application.ports import ClientChanges


class Memory:
    """What a process's cache was told to forget."""

    def __init__(self) -> None:
        self.forgotten: list[UUID] = []
        self.cleared = 0

    def forget(self, client_ids: Collection[UUID]) -> None:
        self.forgotten.extend(client_ids)

    def forget_all(self) -> None:
        self.cleared += 1


async def process(stack: AsyncExitStack, url: str, memory: Memory) -> RedisClientChanges:
    redis, subscriber = redis_client(url, 1.0), subscriber_client(url, 1.0)
    stack.push_async_callback(redis.aclose)
    stack.push_async_callback(subscriber.aclose)
    opened: AsyncIterator[RedisClientChanges] = opened_client_changes(
        redis, subscriber, memory.forget, memory.forget_all
    )
    changes = await anext(opened)
    stack.push_async_callback(anext, opened, None)
    return changes


async def eventually(condition: Callable[[], bool], seconds: float = 3.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not within the deadline")


@pytest.mark.parametrize("adapter", ["memory", "redis"])
async def test_an_announcement_is_applied_here_at_once(adapter: str, redis_url: str) -> None:
    """The contract both adapters keep: this process forgets before `announce` returns."""
    memory, changed = Memory(), {uuid.uuid4(), uuid.uuid4()}
    async with AsyncExitStack() as stack:
        changes: ClientChanges = (
            LocalClientChanges(memory.forget)
            if adapter == "memory"
            else await process(stack, redis_url, memory)
        )
        await changes.announce(changed)
        await changes.announce(set())
    assert set(memory.forgotten) == changed


async def test_an_announcement_reaches_every_process(redis_url: str) -> None:
    here, there = Memory(), Memory()
    changed = uuid.uuid4()
    async with AsyncExitStack() as stack:
        announcer = await process(stack, redis_url, here)
        await process(stack, redis_url, there)

        await announcer.announce({changed})

        assert changed in here.forgotten  # before publishing: no wait for its own echo
        await eventually(lambda: changed in there.forgotten)


async def test_a_resubscription_forgets_everything_it_may_have_missed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_changes, "RETRY_SECONDS", 0.05)
    server = RedisServer(tmp_path)
    memory = Memory()
    try:
        async with AsyncExitStack() as stack:
            listener = await process(stack, server.url, memory)
            assert memory.cleared == 1
            server.stop()
            await eventually(lambda: not listener.subscribed.is_set())
            # Announcing while Redis is down forgets here and fails nobody.
            gone = uuid.uuid4()
            await listener.announce({gone})
            assert gone in memory.forgotten

            server.start()
            await eventually(listener.subscribed.is_set)
            assert memory.cleared == 2
    finally:
        server.stop()
