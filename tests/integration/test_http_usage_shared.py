"""Usage answers kept in Redis, shared by two processes over one database: one keeps an
answer about a day that is over, the other writes a late request of that day (its request
log held it past the hour), and the first answers afresh, for the client and for every
client."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from dependency_injector import providers

from tests.conftest import ADMIN_KEY
from tests.databases import dsn
from tests.fakes import FixedClock
from tests.integration.http_helpers import Http, Tenant, register, two_processes
from tracking.adapters.request_log import BufferedRequestLog
from tracking.bootstrap import Container, resolved
from tracking.settings import Settings

ADMIN = {"X-API-Key": ADMIN_KEY}
DAY = datetime.now(UTC).date() - timedelta(days=2)
"""A day that is over, within the request log's retention."""
NOON = datetime(DAY.year, DAY.month, DAY.day, 12, tzinfo=UTC)


class Two:
    def __init__(self, one: Http, other: Http, clock: FixedClock, log: BufferedRequestLog):
        self.one, self.other, self.clock, self.log = one, other, clock, log

    async def late_request(self, tenant: Tenant) -> None:
        """A request the other process answered at NOON, and wrote now."""
        self.clock.current = NOON
        answer = await self.other.get("/api/clients/me", headers=tenant.headers)
        assert answer.status_code == 200, answer.text
        self.clock.current = datetime.now(UTC)
        # In the app's own event loop, where its engine lives.
        assert self.other.blocking_portal.call(self.log.write)


@pytest.fixture
async def two(shared: Settings) -> AsyncIterator[Two]:
    first, second = Container(settings=shared), Container(settings=shared)
    clock = FixedClock(datetime.now(UTC))
    second.clock.override(providers.Object(clock))
    second.request_log_interval.override(3600.0)  # written when the test says
    async with two_processes(first, second) as (one, other):
        log = await resolved(second.request_log())
        assert isinstance(log, BufferedRequestLog)
        yield Two(one, other, clock, log)


async def sneak_in(database_url: str, client_id: str) -> None:
    """A request written behind the service's back: an answer still without it was kept."""
    connection = await asyncpg.connect(dsn(database_url))
    try:
        await connection.execute(
            "INSERT INTO request_log VALUES ($1, $2, $3, 'GET', '/api/sneaky', 200, 1, 's')",
            uuid.UUID(client_id),
            NOON,
            uuid.uuid4(),
        )
    finally:
        await connection.close()


async def requests(http: Http, headers: dict[str, str], **params: str) -> int:
    day = {"from": DAY.isoformat(), "till": (DAY + timedelta(days=1)).isoformat()}
    answer = await http.get("/api/usage/daily", headers=headers, params=day | params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "private, no-cache"
    count: int = answer.json()["days"][0]["requests"]
    return count


async def top(http: Http) -> dict[str, Any]:
    since = (NOON - timedelta(hours=12)).isoformat()
    answer = await http.get("/api/usage/top-clients", headers=ADMIN, params={"from": since})
    assert answer.status_code == 200, answer.text
    return {c["client_id"]: c["requests"] for c in answer.json()["clients"]}


async def test_a_late_request_in_one_process_drops_the_answers_the_other_kept(
    two: Two, database_url: str
) -> None:
    tenant = await register(two.one, ADMIN)
    await two.late_request(tenant)
    first = await requests(two.one, tenant.headers), await requests(two.one, ADMIN)
    first_top = await top(two.one)
    await sneak_in(database_url, tenant.id)
    kept = (
        await requests(two.one, tenant.headers),
        await requests(two.other, tenant.headers),
        await requests(two.one, ADMIN, client_id=tenant.id),
    )

    await two.late_request(tenant)

    assert first[0] == 1
    assert kept == (1, 1, 1)
    assert first_top[tenant.id] == 1
    assert await requests(two.one, tenant.headers) == 3
    assert await requests(two.one, ADMIN) == first[1] + 2
    assert await requests(two.one, ADMIN, client_id=tenant.id) == 3
    assert (await top(two.one))[tenant.id] == 3
