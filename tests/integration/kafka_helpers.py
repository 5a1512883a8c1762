"""The consumer against the real broker and PostgreSQL: settings, clients, messages, and what
ended up stored."""

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import msgspec

from tests.databases import dsn
from tests.kafka import SESSION_TIMEOUT_MS
from tracking.application.commands.deactivate_client import DeactivateClient
from tracking.application.commands.register_client import RegisterClient
from tracking.application.principal import Principal
from tracking.bootstrap import Container, resolved
from tracking.entrypoints.consumer.run import ConsumerService
from tracking.settings import Settings


def kafka_settings(database_url: str, bootstrap: str, topic: str, **more: Any) -> Settings:
    values: dict[str, Any] = {
        "storage": "postgres",
        "database_url": database_url,
        "kafka_bootstrap": bootstrap,
        "kafka_topic": topic,
        "kafka_group": f"group-{uuid.uuid4().hex[:8]}",
        "kafka_session_timeout_ms": SESSION_TIMEOUT_MS,
        "kafka_batch_wait_ms": 50,
        "kafka_retry_max_seconds": 0.5,
        "consumer_port": 0,
    }
    return Settings(**(values | more))


async def new_client(container: Container, *, active: bool = True) -> uuid.UUID:
    operator = Principal.operator()
    handlers = await resolved(container.handlers())
    registered = await handlers.register_client(
        RegisterClient(actor=operator, name=f"c-{uuid.uuid4().hex}")
    )
    if not active:
        await handlers.deactivate_client(
            DeactivateClient(actor=operator, client_id=registered.client.id)
        )
    return registered.client.id


def message(client_id: uuid.UUID, **fields: Any) -> bytes:
    body = {"client_id": str(client_id), "user_id": "u-1", "action": "view"} | fields
    return msgspec.json.encode(body)


async def stored(database_url: str) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    """(client_id, id, action) of every stored event, in id order."""
    connection = await asyncpg.connect(dsn(database_url))
    try:
        rows = await connection.fetch("SELECT client_id, id, action FROM events ORDER BY id")
    finally:
        await connection.close()
    return [(row["client_id"], row["id"], row["action"]) for row in rows]


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {check.__name__}")
        await asyncio.sleep(0.1)


async def count_is(database_url: str, expected: int, seconds: float = 30) -> None:
    async def all_stored() -> bool:
        return len(await stored(database_url)) >= expected

    await eventually(all_stored, seconds)


@contextlib.asynccontextmanager
async def running(service: ConsumerService) -> AsyncIterator[asyncio.Task[None]]:
    """The consumer in this event loop; stopped as SIGTERM would stop it."""
    task = asyncio.create_task(service.run(handle_signals=False))
    try:
        yield task
    finally:
        service.stop()
        await asyncio.wait_for(task, 60)
