"""The live stream across processes: two API processes sharing one PostgreSQL and one Redis
(each its own container, writer, feed and HTTP server). An event stored through either
reaches a subscriber of either, and a subscriber that keeps disconnecting and resuming ends
with every event once, in commit order."""

import asyncio
import random
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar

from tests.integration.http_helpers import event
from tests.integration.stream_helpers import opened, served
from tracking.application.commands.store_queued_events import QueuedEvent, StoreQueuedEvents
from tracking.bootstrap import Container, resolved, shut_down
from tracking.entrypoints.http.app import create_app
from tracking.settings import Settings

WRITTEN = 3000
CHANCE = random.Random()  # noqa: S311 - test data, not secrets
"""Where the subscriber disconnects, and how much each write holds: different every run."""


@pytest.fixture
async def replicas(shared: Settings) -> AsyncIterator[list[httpx.AsyncClient]]:
    first, second = Container(settings=shared), Container(settings=shared)
    apps: list[Litestar] = [create_app(first), create_app(second, admin=False)]
    try:
        async with (
            served(apps[0]) as one,
            served(apps[1]) as other,
            httpx.AsyncClient(base_url=one, timeout=30) as a,
            httpx.AsyncClient(base_url=other, timeout=30) as b,
        ):
            yield [a, b]
    finally:
        await shut_down(first)
        await shut_down(second)


async def registered(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> str:
    body = {"name": f"fanout-{uuid.uuid4().hex}", "events_per_minute": 1_000_000}
    answer = await client.post("/api/clients", headers=admin_headers, json=body)
    assert answer.status_code == 201, answer.text
    key: str = answer.json()["api_key"]
    return key


async def write(client: httpx.AsyncClient, key: str, count: int) -> list[str]:
    answer = await client.post(
        "/api/events",
        headers={"X-API-Key": key},
        json={"events": [event(user_id=f"u-{CHANCE.randrange(50)}") for _ in range(count)]},
    )
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["results"]]


async def test_an_event_stored_through_one_replica_reaches_a_subscriber_of_the_other(
    replicas: list[httpx.AsyncClient], admin_headers: dict[str, str]
) -> None:
    a, b = replicas
    key = await registered(a, admin_headers)
    async with (
        opened(b, headers={"X-API-Key": key}) as on_b,
        opened(a, headers={"X-API-Key": key}) as on_a,
    ):
        posted = await write(a, key, 3)
        posted += await write(b, key, 2)
        got_b = await on_b.events(5)
        got_a = await on_a.events(5)
    assert [m.json()["id"] for m in got_b] == [m.json()["id"] for m in got_a]
    assert sorted(m.json()["id"] for m in got_b) == sorted(posted)
    assert [m.id for m in got_b] == ["1", "2", "3", "4", "5"]


async def test_events_the_kafka_consumer_stores_reach_a_subscriber_of_an_api_replica(
    replicas: list[httpx.AsyncClient], admin_headers: dict[str, str], shared: Settings
) -> None:
    """The consumer stores through the same group commit, in a process of its own."""
    answer = await replicas[0].post(
        "/api/clients", headers=admin_headers, json={"name": f"queued-{uuid.uuid4().hex}"}
    )
    client_id, key = uuid.UUID(answer.json()["id"]), answer.json()["api_key"]
    consumer = Container(settings=shared)
    try:
        handlers = await resolved(consumer.handlers())
        queued = [
            QueuedEvent(client_id=client_id, id=uuid.uuid4(), user_id="k", action="queued")
            for _ in range(4)
        ]
        async with opened(replicas[1], headers={"X-API-Key": key}) as stream:
            await handlers.store_queued_events(StoreQueuedEvents(events=queued))
            got = await stream.events(4)
    finally:
        await shut_down(consumer)
    assert [m.json()["id"] for m in got] == [str(e.id) for e in queued]


async def test_a_subscriber_disconnected_at_random_points_ends_with_every_event_once_in_order(
    replicas: list[httpx.AsyncClient], admin_headers: dict[str, str]
) -> None:
    key = await registered(replicas[0], admin_headers)
    posted: list[str] = []

    async def writer(client: httpx.AsyncClient) -> None:
        while len(posted) < WRITTEN:
            posted.extend(await write(client, key, CHANCE.randint(1, 40)))

    writers = [asyncio.create_task(writer(client)) for client in replicas]
    received: list[tuple[int, str]] = []
    reconnections = 0

    def finished() -> bool:
        return all(w.done() for w in writers) and len(received) == len(posted)

    try:
        while not finished():
            last = received[-1][0] if received else 0
            client = CHANCE.choice(replicas)
            headers = {"X-API-Key": key, "Last-Event-ID": str(last)}
            async with opened(client, headers=headers) as stream:
                for _ in range(CHANCE.randint(1, 300)):
                    if finished():
                        break
                    message = await stream.next()
                    assert message is not None
                    received.append((int(message.id or 0), message.json()["id"]))
            reconnections += 1
    finally:
        for w in writers:
            w.cancel()
        await asyncio.gather(*writers, return_exceptions=True)
    positions = [position for position, _ in received]
    assert positions == list(range(1, len(posted) + 1)), "each position once, in order"
    assert sorted(event_id for _, event_id in received) == sorted(posted)
    assert reconnections > 5
