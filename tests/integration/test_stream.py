"""`GET /api/events/stream` over a real HTTP server, on both storages: committed events as
they come, each at its position, resumable from any of them, filtered, and bounded."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar

from tests.integration.http_helpers import assert_problem, event
from tests.integration.stream_helpers import Message, opened, served
from tracking.application.handlers import Handlers
from tracking.bootstrap import Container, resolved


@pytest.fixture
async def live(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with served(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client


async def tenant(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> dict[str, str]:
    body = {"name": f"stream-{uuid.uuid4().hex}"}
    answer = await client.post("/api/clients", headers=admin_headers, json=body)
    assert answer.status_code == 201, answer.text
    return {"X-API-Key": answer.json()["api_key"], "X-Client-Id": answer.json()["id"]}


async def post(
    client: httpx.AsyncClient, headers: dict[str, str], count: int = 1, **fields: Any
) -> list[str]:
    """`count` events in one batch; their ids, in order."""
    events = [event(**fields) for _ in range(count)]
    answer = await client.post("/api/events", headers=key(headers), json={"events": events})
    assert answer.status_code in (200, 201), answer.text
    return [item["id"] for item in answer.json()["results"]]


def key(headers: dict[str, str]) -> dict[str, str]:
    return {"X-API-Key": headers["X-API-Key"]}


def ids(messages: list[Message]) -> list[str]:
    return [m.json()["id"] for m in messages]


async def test_committed_events_arrive_at_their_positions_as_the_listing_shows_them(
    live: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    me = await tenant(live, admin_headers)
    async with opened(live, headers=key(me)) as stream:
        posted = await post(live, me, 3, metadata={"page": "/a"})
        got = await stream.events(3)
    assert ids(got) == posted
    assert [m.id for m in got] == ["1", "2", "3"]
    listed = await live.get("/api/events", headers=key(me), params={"order": "asc"})
    assert [m.json() for m in got] == listed.json()["events"]
    assert got[0].event == "message"


async def test_a_stream_resumed_with_last_event_id_gets_every_event_since_once_in_order(
    live: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    me = await tenant(live, admin_headers)
    first = await post(live, me, 4)
    async with opened(live, headers={**key(me), "Last-Event-ID": "2"}) as stream:
        replayed = await stream.events(2)
        later = await post(live, me, 3)
        live_ones = await stream.events(3)
    assert ids(replayed) == first[2:]
    assert ids(live_ones) == later
    assert [m.id for m in replayed + live_ones] == ["3", "4", "5", "6", "7"]
    # Resumed again from the last one: nothing is sent twice, what comes next comes.
    async with opened(live, headers={**key(me), "Last-Event-ID": "7"}) as stream:
        newest = await post(live, me)
        assert ids(await stream.events(1)) == newest


async def test_a_first_connection_may_resume_by_query_parameter(
    live: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    me = await tenant(live, admin_headers)
    posted = await post(live, me, 3)
    async with opened(live, headers=key(me), params={"last_event_id": "0"}) as stream:
        assert ids(await stream.events(3)) == posted


async def test_filters_pick_a_users_or_an_actions_events(
    live: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    me = await tenant(live, admin_headers)
    await post(live, me, 2, user_id="other")
    wanted = await post(live, me, 1, user_id="ada", action="click")
    await post(live, me, 1, user_id="ada", action="view")
    params = {"user_id": "ada", "action": "click", "last_event_id": "0"}
    async with opened(live, headers=key(me), params=params) as stream:
        (got,) = await stream.events(1)
        assert ids([got]) == wanted
        assert got.id == "3"
        more = await post(live, me, 1, user_id="ada", action="click")
        assert ids(await stream.events(1)) == more


async def test_a_client_sees_only_its_own_stream_and_an_admin_may_name_one(
    live: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    me, other = await tenant(live, admin_headers), await tenant(live, admin_headers)
    mine = await post(live, me)
    await post(live, other)
    refused = await live.get(
        "/api/events/stream", headers=key(other), params={"client_id": me["X-Client-Id"]}
    )
    assert_problem(refused, 403, "forbidden_client")
    params = {"client_id": me["X-Client-Id"], "last_event_id": "0"}
    async with opened(live, headers=admin_headers, params=params) as stream:
        assert ids(await stream.events(1)) == mine


@pytest.mark.parametrize("given", ["x", "-1", "1.5", "9" * 19])
async def test_a_bad_last_event_id_is_a_clear_400(
    live: httpx.AsyncClient, admin_headers: dict[str, str], given: str
) -> None:
    me = await tenant(live, admin_headers)
    answer = await live.get("/api/events/stream", headers={**key(me), "Last-Event-ID": given})
    assert_problem(answer, 400, "invalid_last_event_id")


async def test_a_client_has_a_bounded_number_of_streams(
    live: httpx.AsyncClient, admin_headers: dict[str, str], settings: Any
) -> None:
    me = await tenant(live, admin_headers)
    async with (
        opened(live, headers=key(me)),
        opened(live, headers=key(me)),
        opened(live, headers=key(me)),
        opened(live, headers=key(me)),
        opened(live, headers=key(me)),
    ):
        answer = await live.get("/api/events/stream", headers=key(me))
        assert_problem(answer, 429, "too_many_streams")
    async with opened(live, headers=key(me)):
        pass  # closed ones are given back


async def test_a_stream_token_opens_the_stream_and_nothing_else(
    live: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    me = await tenant(live, admin_headers)
    minted = await live.post("/api/auth/stream-token", headers=key(me))
    assert minted.status_code == 200, minted.text
    token = minted.json()["access_token"]
    assert minted.json()["expires_in"] == 60
    posted = await post(live, me)
    async with opened(live, params={"token": token, "last_event_id": "0"}) as stream:
        assert ids(await stream.events(1)) == posted
    as_bearer = await live.get("/api/events", headers={"Authorization": f"Bearer {token}"})
    assert_problem(as_bearer, 401, "invalid_token")
    elsewhere = await live.get("/api/events", params={"token": token})
    assert_problem(elsewhere, 401, "missing_credentials")
    access = await live.post("/api/auth/token", headers=key(me))
    in_url = await live.get("/api/events/stream", params={"token": access.json()["access_token"]})
    assert_problem(in_url, 401, "invalid_token")


async def test_beyond_the_replay_horizon_the_stream_says_reset_and_goes_on(
    live: httpx.AsyncClient, admin_headers: dict[str, str], container: Container
) -> None:
    me = await tenant(live, admin_headers)
    await post(live, me, 2)
    journal = await resolved(container.event_journal())
    assert await journal.forget_before(datetime.now(UTC) + timedelta(seconds=1)) >= 1
    kept = await post(live, me, 2)
    async with opened(live, headers={**key(me), "Last-Event-ID": "1"}) as stream:
        reset, *after = await stream.events(3)
    assert (reset.event, reset.id, reset.json()) == ("reset", "2", {"resumed_after": 2})
    assert ids(after) == kept


async def test_a_subscriber_too_far_behind_is_told_lagged_and_loses_nothing_on_resuming(
    live: httpx.AsyncClient, admin_headers: dict[str, str], container: Container
) -> None:
    me = await tenant(live, admin_headers)
    handlers: Handlers = await resolved(container.handlers())
    handlers.stream_events._limits = handlers.stream_events._limits.__class__(
        capacity=5, heartbeat_seconds=15, per_client=5
    )
    async with opened(live, headers=key(me)) as stream:
        posted = await post(live, me, 20)  # more than its inbox holds, at once
        lagged = await stream.next()
        assert lagged is not None
        assert (lagged.event, lagged.json()) == ("lagged", {"last_event_id": 0})
        assert await stream.next() is None  # and the stream ended
    async with opened(live, headers={**key(me), "Last-Event-ID": "0"}) as stream:
        assert ids(await stream.events(20)) == posted
