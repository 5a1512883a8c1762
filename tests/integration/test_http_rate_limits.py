"""Rate limits on the API: each client's requests and events per minute, counted in this
process or in Redis, with the standard headers, and failed authentication per address."""

import asyncio
import time
import uuid
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from tests.integration.http_helpers import PROBLEM, Http, Tenant
from tracking.adapters.redis.connection import redis_client
from tracking.bootstrap import Container, shut_down
from tracking.entrypoints.http.app import create_app
from tracking.settings import Settings

FAILURES = 3


@pytest.fixture(params=["local", "redis"])
async def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """Both ways of counting, over both storages. Every test client comes from the address
    "testclient": its failures counted in the shared Redis by an earlier test are cleared."""
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    if url is not None:
        redis = redis_client(url, 1.0)
        async for key in redis.scan_iter(match="tracking:rl:{addr:testclient}:*"):
            await redis.delete(key)
        await redis.aclose()
    return msgspec.structs.replace(settings, redis_url=url, auth_failures_per_minute=FAILURES)


@pytest.fixture(autouse=True)
async def fresh_window() -> None:
    """Each test runs inside one minute's window: one that would end within ten seconds is
    waited out, so no count starts afresh halfway through."""
    into = time.time() % 60
    if into > 50:
        await asyncio.sleep(60 - into + 0.05)


async def tenant(http: Http, admin: dict[str, str], **limits: int) -> Tenant:
    body: dict[str, Any] = {"name": f"tenant-{uuid.uuid4().hex}", **limits}
    answer = await http.post("/api/clients", headers=admin, json=body)
    assert answer.status_code == 201, answer.text
    return Tenant(id=answer.json()["id"], api_key=answer.json()["api_key"])


def event() -> dict[str, str]:
    return {"user_id": "u1", "action": "page.view"}


async def test_a_client_gets_exactly_its_limit_then_429_with_the_headers(
    http: Http, admin_headers: dict[str, str]
) -> None:
    shop = await tenant(http, admin_headers, rate_limit_per_minute=5)

    answers = [await http.get("/api/clients/me", headers=shop.headers) for _ in range(6)]

    assert [a.status_code for a in answers] == [200] * 5 + [429]
    first, refused = answers[0], answers[-1]
    assert first.headers["RateLimit-Policy"] == '"requests";q=5;w=60'
    remaining, _, reset = first.headers["RateLimit"].removeprefix('"requests";r=').partition(";t=")
    assert remaining == "4"
    assert 1 <= int(reset) <= 60
    assert first.headers["X-RateLimit-Limit"] == "5"
    assert first.headers["X-RateLimit-Remaining"] == "4"
    assert abs(int(first.headers["X-RateLimit-Reset"]) - (time.time() + int(reset))) <= 2
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["code"] == "rate_limited"
    assert refused.json()["limit"] == "requests"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Retry-After" not in first.headers


async def test_a_batch_over_the_events_quota_is_refused_whole(
    http: Http, admin_headers: dict[str, str]
) -> None:
    shop = await tenant(http, admin_headers, events_per_minute=10)
    ok = await http.post("/api/events", headers=shop.headers, json={"events": [event()] * 6})
    assert ok.status_code == 200
    assert '"events";r=4;' in ok.headers["RateLimit"]

    over = await http.post("/api/events", headers=shop.headers, json={"events": [event()] * 6})

    assert over.status_code == 429
    assert over.json()["limit"] == "events"
    assert over.headers["X-RateLimit-Limit"] == "10"
    listed = await http.get("/api/events", headers=shop.headers, params={"limit": "100"})
    assert len(listed.json()["events"]) == 6
    rest = await http.post("/api/events", headers=shop.headers, json={"events": [event()] * 4})
    assert rest.status_code == 200
    assert rest.json()["stored"] == 4


async def test_a_single_event_counts_against_the_events_quota_too(
    http: Http, admin_headers: dict[str, str]
) -> None:
    shop = await tenant(http, admin_headers, events_per_minute=2)

    codes = [(await http.post("/api/event", headers=shop.headers, json=event())) for _ in range(3)]

    assert [c.status_code for c in codes] == [201, 201, 429]
    assert codes[0].headers["RateLimit-Policy"].endswith('"events";q=2;w=60')
    assert codes[-1].json()["limit"] == "events"


async def test_new_limits_apply_to_the_very_next_request(
    http: Http, admin_headers: dict[str, str]
) -> None:
    shop = await tenant(http, admin_headers, rate_limit_per_minute=100)
    for _ in range(3):
        assert (await http.get("/api/clients/me", headers=shop.headers)).status_code == 200

    patched = await http.patch(
        f"/api/clients/{shop.id}", headers=admin_headers, json={"rate_limit_per_minute": 3}
    )
    assert patched.status_code == 200, patched.text

    assert (await http.get("/api/clients/me", headers=shop.headers)).status_code == 429


async def test_clients_are_limited_apart(http: Http, admin_headers: dict[str, str]) -> None:
    shop = await tenant(http, admin_headers, rate_limit_per_minute=1)
    blog = await tenant(http, admin_headers, rate_limit_per_minute=1)
    assert (await http.get("/api/clients/me", headers=shop.headers)).status_code == 200
    assert (await http.get("/api/clients/me", headers=shop.headers)).status_code == 429
    assert (await http.get("/api/clients/me", headers=blog.headers)).status_code == 200


async def test_guessing_keys_from_one_address_is_refused_even_with_a_right_key(
    http: Http, admin_headers: dict[str, str]
) -> None:
    shop = await tenant(http, admin_headers)
    wrong = {"X-API-Key": "trk_" + "W" * 43}

    answers = [await http.get("/api/clients/me", headers=wrong) for _ in range(FAILURES + 1)]

    assert [a.status_code for a in answers] == [401] * FAILURES + [429]
    assert answers[-1].json()["code"] == "too_many_failures"
    assert answers[-1].json()["limit"] == "auth_failures"
    assert answers[-1].headers["RateLimit-Policy"] == f'"auth_failures";q={FAILURES};w=60'
    right = await http.get("/api/clients/me", headers=shop.headers)
    assert right.status_code == 429
    assert right.json()["code"] == "too_many_failures"


async def test_readiness_says_how_limits_are_shared(http: Http, settings: Settings) -> None:
    report = (await http.get("/health/ready")).json()
    names = {d["name"]: d["status"] for d in report["dependencies"]}
    assert names.get("redis") == ("ok" if settings.redis_url else None)


@pytest.mark.parametrize("storage_name", ["memory"])
async def test_with_limits_off_nothing_is_counted_or_said(
    settings: Settings, storage_name: str
) -> None:
    container = Container(settings=msgspec.structs.replace(settings, rate_limits=False))
    try:
        async with AsyncTestClient(create_app(container)) as http:
            admin = {"X-API-Key": settings.admin_api_key or ""}
            shop = await tenant(http, admin, rate_limit_per_minute=1)
            answers = [await http.get("/api/clients/me", headers=shop.headers) for _ in range(3)]
            wrong = {"X-API-Key": "trk_" + "W" * 43}
            failures = [await http.get("/api/clients/me", headers=wrong) for _ in range(5)]
    finally:
        await shut_down(container)
    assert [a.status_code for a in answers] == [200] * 3
    assert "RateLimit" not in answers[0].headers
    assert [f.status_code for f in failures] == [401] * 5
