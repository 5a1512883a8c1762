"""`POST /api/event` has two ways in (single_event.py): the plain form answered beside the
router, any other through it. Each request here goes both ways, and the two answers must be
the same: status, body (but for the request id and a new event's id) and headers."""

import asyncio
import json
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import Response
from litestar.testing import AsyncTestClient

from tests.integration.http_helpers import Http, Tenant, bearer, register
from tests.integration.request_log_helpers import log_of
from tracking.bootstrap import Container
from tracking.entrypoints.http import single_event
from tracking.entrypoints.http.app import create_app

Send = Callable[[dict[str, str], bytes], Coroutine[Any, Any, Response]]
_VARYING = {"x-request-id", "content-length", "ratelimit", "x-ratelimit-remaining"}


@pytest.fixture
def bypassed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the requests the bypass answered."""
    calls: list[int] = []
    answer = single_event.SingleEventRoute._answer

    async def counted(*args: Any) -> single_event.Answer:
        calls.append(1)
        return await answer(*args)

    monkeypatch.setattr(single_event.SingleEventRoute, "_answer", counted)
    return calls


async def both_ways(http: Http, headers: dict[str, str], body: bytes) -> tuple[Response, Response]:
    """The plain form, then the same request with the charset spelled out, which the bypass
    leaves to the router (and which means the same: JSON is UTF-8)."""
    plain = await http.post(
        "/api/event", headers={"Content-Type": "application/json", **headers}, content=body
    )
    routed = await http.post(
        "/api/event",
        headers={"Content-Type": "application/json; charset=utf-8", **headers},
        content=body,
    )
    return plain, routed


def assert_same(plain: Response, routed: Response) -> None:
    assert plain.status_code == routed.status_code, (plain.text, routed.text)
    assert _body(plain) == _body(routed)
    assert set(plain.headers) == set(routed.headers)
    for name in set(plain.headers) - _VARYING:
        assert plain.headers[name] == routed.headers[name], name
    assert plain.headers["x-request-id"] != routed.headers["x-request-id"]


def _body(answer: Response) -> Any:
    body = answer.json()
    if isinstance(body, dict):
        body.pop("request_id", None)
        if body.get("status") == "stored":
            body.pop("id")
    return body


def event(**fields: Any) -> bytes:
    return json.dumps({"user_id": "u-1", "action": "page.view"} | fields).encode()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (event(), 201),
        (event(user_id=42, metadata={"page": "/a"}), 201),
        (b'{"user_id": "u-1"', 400),
        (b"[1, 2]", 400),
        (event(extra=1), 400),
        (event(action="not an action!"), 400),
        (event(occurred_at="2025-13-01T00:00:00Z"), 400),
        (event(occurred_at="1900-01-01T00:00:00Z"), 400),
        (event(occurred_at="2999-01-01T00:00:00Z"), 400),
        (event(user_id=""), 400),
        (event(metadata=[1]), 400),
        (b'{"user_id": "\xff", "action": "a"}', 400),
    ],
)
async def test_each_body_is_answered_the_same_both_ways(
    http: Http, admin_headers: dict[str, str], bypassed: list[int], body: bytes, status: int
) -> None:
    shop = await register(http, admin_headers)
    plain, routed = await both_ways(http, shop.headers, body)
    assert plain.status_code == status, plain.text
    assert_same(plain, routed)
    assert len(bypassed) == 1


async def test_a_retry_is_a_duplicate_both_ways(
    http: Http, admin_headers: dict[str, str], bypassed: list[int]
) -> None:
    shop = await register(http, admin_headers)
    body = event(id=str(uuid.uuid4()))
    first = await http.post(
        "/api/event", headers={**shop.headers, "Content-Type": "application/json"}, content=body
    )
    assert first.status_code == 201
    plain, routed = await both_ways(http, shop.headers, body)
    assert plain.status_code == 200
    assert plain.json()["id"] == first.json()["id"]
    assert_same(plain, routed)
    assert len(bypassed) == 2  # the first and the plain retry


@pytest.mark.parametrize(
    "credentials",
    [
        {},
        {"X-API-Key": "trk_" + "Z" * 43},
        {"X-API-Key": "not-a-key"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not.a.token"},
    ],
)
async def test_each_bad_credential_is_answered_the_same_both_ways(
    http: Http, bypassed: list[int], credentials: dict[str, str]
) -> None:
    plain, routed = await both_ways(http, credentials, event())
    assert plain.status_code == 401
    assert_same(plain, routed)
    assert len(bypassed) == 1


async def test_a_key_sent_twice_is_refused_both_ways(
    http: Http, admin_headers: dict[str, str]
) -> None:
    shop = await register(http, admin_headers)
    twice = [("X-API-Key", shop.api_key), ("X-API-Key", shop.api_key)]
    answers = [
        await http.post("/api/event", headers=[*twice, ("Content-Type", media)], content=event())
        for media in ("application/json", "application/json; charset=utf-8")
    ]
    assert answers[0].status_code == 401
    assert answers[0].json()["code"] == "ambiguous_credentials"
    assert_same(*answers)


async def test_a_bearer_token_records_both_ways(
    http: Http, admin_headers: dict[str, str], bypassed: list[int]
) -> None:
    shop = await register(http, admin_headers)
    plain, routed = await both_ways(http, await bearer(http, shop.api_key), event())
    assert plain.status_code == 201
    assert_same(plain, routed)
    assert len(bypassed) == 1


async def test_the_limits_count_both_ways_alike(
    http: Http, admin_headers: dict[str, str], bypassed: list[int]
) -> None:
    answer = await http.post(
        "/api/clients", headers=admin_headers, json={"name": "small", "events_per_minute": 2}
    )
    small = Tenant(id=answer.json()["id"], api_key=answer.json()["api_key"])
    allowed = await both_ways(http, small.headers, event())
    refused = await both_ways(http, small.headers, event())
    assert [a.status_code for a in (*allowed, *refused)] == [201, 201, 429, 429]
    assert '"events";r=1;' in allowed[0].headers["ratelimit"]
    assert '"events";r=0;' in allowed[1].headers["ratelimit"]
    assert refused[0].json()["limit"] == "events"
    assert "retry-after" in refused[0].headers
    assert_same(*refused)
    assert len(bypassed) == 2


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Content-Type": "text/plain"}, 415),
        ({"Content-Type": "application/json", "Transfer-Encoding": "chunked"}, 201),
    ],
)
async def test_other_forms_go_through_the_router(
    http: Http,
    admin_headers: dict[str, str],
    bypassed: list[int],
    headers: dict[str, str],
    status: int,
) -> None:
    shop = await register(http, admin_headers)
    answer = await http.post("/api/event", headers={**shop.headers, **headers}, content=event())
    assert answer.status_code == status, answer.text
    assert not bypassed


async def test_the_bypass_is_counted_and_logged_as_the_route(
    container: Container, admin_headers: dict[str, str], bypassed: list[int]
) -> None:
    container.request_log_interval.override(3600)  # written when the app stops
    async with AsyncTestClient(create_app(container)) as http:
        shop = await register(http, admin_headers)
        before = stored_count((await http.get("/metrics")).text)
        await both_ways(http, shop.headers, event())
        after = stored_count((await http.get("/metrics")).text)

    assert len(bypassed) == 1
    assert after - before == 2  # the registry is the process's: other tests counted too
    now = datetime.now(UTC)
    log = await log_of(container)
    (figures,) = await log.usage.periods(
        uuid.UUID(shop.id), [now - timedelta(hours=1), now + timedelta(hours=1)], 5
    )
    assert figures.requests == 2


def stored_count(exposition: str) -> float:
    series = 'tracking_http_requests_total{method="POST",route="/api/event",status="201"} '
    lines = [line for line in exposition.splitlines() if line.startswith(series)]
    return float(lines[0].removeprefix(series)) if lines else 0.0


@pytest.mark.parametrize("storage_name", ["memory"])
async def test_a_bypassed_request_cancelled_midway_is_counted_as_unanswered(
    container: Container, admin_headers: dict[str, str], bypassed: list[int]
) -> None:
    """As the router's way counts a request it never answered: a 500, not nothing. (The ASGI
    call below runs on the test's loop, where a PostgreSQL pool that the test client opened
    on its own loop cannot be used; the way in does the same over either storage.)"""
    app = create_app(container)
    async with AsyncTestClient(app) as http:
        shop = await register(http, admin_headers)
        series = 'tracking_http_requests_total{method="POST",route="/api/event",status="500"} '
        before = _count((await http.get("/metrics")).text, series)

        async def receive() -> dict[str, Any]:
            raise asyncio.CancelledError  # the server stopping while the body is read

        async def send(message: Any) -> None:
            raise AssertionError(f"nothing is sent: {message}")

        body = event()
        headers = [
            (b"x-api-key", shop.headers["X-API-Key"].encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/api/event",
            "raw_path": b"/api/event",
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        with pytest.raises(asyncio.CancelledError):
            await app(scope, receive, send)  # type: ignore[arg-type]
        after = _count((await http.get("/metrics")).text, series)

    assert len(bypassed) == 1
    assert after - before == 1


def _count(exposition: str, series: str) -> float:
    lines = [line for line in exposition.splitlines() if line.startswith(series)]
    return float(lines[0].removeprefix(series)) if lines else 0.0
