"""Stats answers kept in Redis, shared by two processes over one database: one keeps an
answer, the other's late event drops it, and the first answers afresh."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from tests.conftest import ADMIN_KEY
from tests.databases import dsn
from tests.integration.http_helpers import Http, event, register, two_processes
from tracking.bootstrap import Container
from tracking.settings import Settings

DAY = "2025-06-10"


@pytest.fixture
async def two(shared: Settings) -> AsyncIterator[tuple[Http, Http]]:
    async with two_processes(Container(settings=shared), Container(settings=shared)) as both:
        yield both


async def sneak_in(database_url: str, client_id: str) -> None:
    """An event written behind the service's back: an answer still without it was kept."""
    connection = await asyncpg.connect(dsn(database_url))
    try:
        at = datetime(2025, 6, 10, 8, tzinfo=UTC)
        await connection.execute(
            "INSERT INTO events VALUES ($1, $2, 'sneaky', 'view', $3, $3, '{}')",
            uuid.UUID(client_id),
            uuid.uuid4(),
            at,
        )
    finally:
        await connection.close()


async def total(http: Http, headers: dict[str, str]) -> int:
    answer = await http.get("/api/stats/daily", headers=headers, params={"date": DAY})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "private, no-cache"
    count: int = answer.json()["total_events"]
    return count


async def test_a_late_event_in_one_process_drops_the_answer_the_other_kept(
    two: tuple[Http, Http], database_url: str
) -> None:
    one, other = two
    tenant = await register(one, {"X-API-Key": ADMIN_KEY})
    body = {"events": [event(occurred_at=f"{DAY}T12:00:00Z")]}
    assert (await one.post("/api/import", headers=tenant.headers, json=body)).status_code == 200
    assert await total(one, tenant.headers) == 1
    await sneak_in(database_url, tenant.id)

    kept = await total(one, tenant.headers), await total(other, tenant.headers)
    late = {"events": [event(user_id="late", occurred_at=f"{DAY}T13:00:00Z")]}
    assert (await other.post("/api/import", headers=tenant.headers, json=late)).status_code == 200

    assert kept == (1, 1)
    assert await total(one, tenant.headers) == 3
