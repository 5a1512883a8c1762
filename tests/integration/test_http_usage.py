"""GET /api/usage/daily and /api/usage/top-clients: every authenticated /api request is
logged (by route template, off the request path), a tenant reads only its own, and answers
carry an ETag (304 when unchanged) and a Cache-Control."""

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.http_helpers import Http, Tenant, assert_problem, event, register
from tests.integration.request_log_helpers import log_of
from tracking.bootstrap import Container
from tracking.entrypoints.http.app import create_app
from tracking.settings import Settings

T = TypeVar("T")
Json = dict[str, Any]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Open answers not kept: a request shows in the next answer once written. (Kept, they
    show within the open lifetime: `tests/unit/test_usage_answers.py`.)"""
    return msgspec.structs.replace(settings, analytics_open_ttl_seconds=0)


@pytest.fixture
def app(container: Container) -> Litestar:
    container.request_log_interval.override(0.02)  # written at once, not within a second
    return create_app(container)


async def eventually(read: Callable[[], Awaitable[T]], done: Callable[[T], bool]) -> T:
    """What `read` gives once `done` holds of it, or after 5 s whatever it gives then."""
    for _ in range(250):
        value = await read()
        if done(value):
            return value
        await asyncio.sleep(0.02)
    return value


async def daily(http: Http, headers: dict[str, str], **params: str) -> Json:
    answer = await http.get("/api/usage/daily", headers=headers, params=params)
    assert answer.status_code == 200, answer.text
    body: Json = answer.json()
    return body


def routes(body: Json) -> Counter[tuple[str, str]]:
    """Requests by (method, route) over the answer's days (of the top routes each day)."""
    counted: Counter[tuple[str, str]] = Counter()
    for day in body["days"]:
        for route in day["top_routes"]:
            counted[(route["method"], route["route"])] += route["requests"]
    return counted


def total(body: Json, figure: str) -> int:
    return sum(day[figure] for day in body["days"])


async def send_events(http: Http, tenant: Tenant, count: int) -> None:
    for _ in range(count):
        answer = await http.post("/api/event", headers=tenant.headers, json=event())
        assert answer.status_code == 201, answer.text


async def test_every_authenticated_request_is_logged_by_route_template(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant
) -> None:
    await send_events(http, tenant_a, 2)
    bad = await http.post("/api/event", headers=tenant_a.headers, json={"action": "x"})
    mine = await http.get(f"/api/clients/{tenant_a.id}", headers=tenant_a.headers)
    other = await http.get(f"/api/clients/{uuid.uuid4()}", headers=tenant_a.headers)
    await http.get("/api/events", headers={"X-API-Key": "trk_" + "Z" * 43})  # no one's: 401
    assert (bad.status_code, mine.status_code, other.status_code) == (400, 200, 404)

    body = await eventually(
        lambda: daily(http, admin_headers, client_id=tenant_a.id),
        lambda b: total(b, "requests") >= 5,
    )

    assert total(body, "requests") == 5
    assert total(body, "client_errors") == 2
    assert total(body, "server_errors") == 0
    assert routes(body) == {
        ("POST", "/api/event"): 3,
        ("GET", "/api/clients/{client_id}"): 2,
    }
    assert tenant_a.id not in msgspec.json.encode(body["days"]).decode()
    today = next(day for day in body["days"] if day["requests"])
    assert today["p50_ms"] > 0
    assert today["p95_ms"] >= today["p50_ms"]
    assert body["client_id"] == tenant_a.id


async def test_a_client_reads_only_its_own_usage(
    http: Http, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    await send_events(http, tenant_a, 2)
    await send_events(http, tenant_b, 1)

    a = await eventually(
        lambda: daily(http, tenant_a.headers),
        lambda b: routes(b)[("POST", "/api/event")] >= 2,
    )
    b = await eventually(
        lambda: daily(http, tenant_b.headers),
        lambda b: routes(b)[("POST", "/api/event")] >= 1,
    )
    named = await daily(http, tenant_a.headers, client_id=tenant_a.id)
    other = await http.get(
        "/api/usage/daily", headers=tenant_a.headers, params={"client_id": tenant_b.id}
    )

    assert routes(a)[("POST", "/api/event")] == 2
    assert routes(b)[("POST", "/api/event")] == 1
    assert (a["client_id"], b["client_id"]) == (tenant_a.id, tenant_b.id)
    assert named["client_id"] == tenant_a.id
    assert_problem(other, 403, "forbidden_client")


async def test_an_admin_without_a_client_reads_every_clients_usage(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant, tenant_b: Tenant
) -> None:
    await send_events(http, tenant_a, 2)
    await send_events(http, tenant_b, 3)

    body = await eventually(
        lambda: daily(http, admin_headers),
        lambda b: routes(b)[("POST", "/api/event")] >= 5,
    )

    assert routes(body)[("POST", "/api/event")] == 5
    assert body["client_id"] is None


async def test_top_clients_rank_clients_by_requests_with_their_names(
    http: Http, admin_headers: dict[str, str]
) -> None:
    busy = await register(http, admin_headers, name=f"busy-{uuid.uuid4().hex}")
    quiet = await register(http, admin_headers, name=f"quiet-{uuid.uuid4().hex}")
    await send_events(http, busy, 3)
    await send_events(http, quiet, 1)

    async def top() -> Json:
        answer = await http.get(
            "/api/usage/top-clients", headers=admin_headers, params={"limit": "100"}
        )
        assert answer.status_code == 200, answer.text
        body: Json = answer.json()
        return body

    def counts(body: Json) -> dict[str, tuple[str, int]]:
        return {c["client_id"]: (c["name"], c["requests"]) for c in body["clients"]}

    body = await eventually(top, lambda b: counts(b).get(quiet.id, ("", 0))[1] >= 1)
    default = await http.get("/api/usage/top-clients", headers=admin_headers)

    listed = counts(body)
    assert listed[busy.id][1] == 3
    assert listed[quiet.id][1] == 1
    order = [c["client_id"] for c in body["clients"]]
    assert order.index(busy.id) < order.index(quiet.id)
    assert listed[busy.id][0].startswith("busy-")
    since, till = datetime.fromisoformat(body["from"]), datetime.fromisoformat(body["till"])
    assert till - since == timedelta(hours=24)
    assert abs(till - datetime.now(UTC)) < timedelta(minutes=1)
    assert len(default.json()["clients"]) <= 3


async def test_top_clients_are_for_admins_only(http: Http, tenant_a: Tenant) -> None:
    answer = await http.get("/api/usage/top-clients", headers=tenant_a.headers)

    assert_problem(answer, 403, "admin_required")


async def test_days_of_a_zone_follow_its_clock_changes(http: Http, tenant_a: Tenant) -> None:
    spring = await daily(
        http, tenant_a.headers, **{"from": "2025-03-29", "till": "2025-04-01", "tz": "Europe/Paris"}
    )
    autumn = await daily(
        http, tenant_a.headers, **{"from": "2025-10-26", "till": "2025-10-27", "tz": "Europe/Paris"}
    )

    assert [d["date"] for d in spring["days"]] == ["2025-03-29", "2025-03-30", "2025-03-31"]
    assert [d["hours"] for d in spring["days"]] == [24, 23, 24]
    assert spring["days"][1] == {
        "date": "2025-03-30",
        "start": "2025-03-30T00:00:00+01:00",
        "end": "2025-03-31T00:00:00+02:00",
        "hours": 23.0,
        "utc_offsets": ["+01:00", "+02:00"],
        "requests": 0,
        "client_errors": 0,
        "server_errors": 0,
        "p50_ms": None,
        "p95_ms": None,
        "top_routes": [],
    }
    assert spring["tz"] == "Europe/Paris"
    assert [(d["hours"], d["utc_offsets"]) for d in autumn["days"]] == [(25, ["+02:00", "+01:00"])]


@pytest.mark.parametrize(
    ("path", "params", "code", "field"),
    [
        ("daily", {"from": "2025-13-01", "till": "2025-12-02"}, "invalid_query", "from"),
        ("daily", {"from": "2025-03-01T00:00:00Z"}, "invalid_query", "from"),
        ("daily", {"from": "2025-03-02", "till": "2025-03-02"}, "invalid_query", "till"),
        ("daily", {"from": "2024-01-01", "till": "2025-01-02"}, "invalid_query", "till"),
        ("daily", {"tz": "Europe/Atlantis"}, "invalid_query", "tz"),
        ("daily", {"client_id": "not-a-uuid"}, "invalid_request", "client_id"),
        ("top-clients", {"limit": "0"}, "invalid_request", "limit"),
        ("top-clients", {"limit": "101"}, "invalid_request", "limit"),
        ("top-clients", {"from": "2025-03-01T00:00:00"}, "invalid_query", "from"),
        (
            "top-clients",
            {"from": "2025-03-02T00:00:00Z", "till": "2025-03-01T00:00:00Z"},
            "invalid_query",
            "till",
        ),
    ],
    ids=[
        "bad-date",
        "time-not-date",
        "empty-range",
        "367-days",
        "unknown-zone",
        "bad-client",
        "limit-0",
        "limit-101",
        "naive",
        "till-before-from",
    ],
)
async def test_a_question_that_makes_no_sense_is_a_400(
    http: Http,
    admin_headers: dict[str, str],
    path: str,
    params: dict[str, str],
    *,
    code: str,
    field: str,
) -> None:
    answer = await http.get(f"/api/usage/{path}", headers=admin_headers, params=params)

    body = assert_problem(answer, 400, code)
    assert [e["field"] for e in body["errors"]] == [field]


async def test_stopping_writes_what_is_buffered(
    container: Container, admin_headers: dict[str, str]
) -> None:
    container.request_log_interval.override(3600)  # only stopping writes, then
    async with AsyncTestClient(create_app(container)) as http:
        tenant = await register(http, admin_headers)
        await send_events(http, tenant, 3)

    log = await log_of(container)
    now = datetime.now(UTC)
    (figures,) = await log.usage.periods(
        uuid.UUID(tenant.id), [now - timedelta(hours=1), now + timedelta(hours=1)], 5
    )

    assert figures.requests == 3


async def test_off_nothing_is_logged(settings: Settings, admin_headers: dict[str, str]) -> None:
    container = Container(settings=msgspec.structs.replace(settings, request_log=False))
    container.request_log_interval.override(0.01)
    async with AsyncTestClient(create_app(container)) as http:
        tenant = await register(http, admin_headers)
        await send_events(http, tenant, 2)
        await asyncio.sleep(0.1)
        body = await daily(http, admin_headers)

    assert total(body, "requests") == 0


async def test_the_logs_buffer_and_drops_are_in_the_metrics(http: Http) -> None:
    answer = await http.get("/metrics")

    samples = {line.split(" ")[0] for line in answer.text.splitlines() if line[:1] != "#"}
    assert {"tracking_request_log_dropped_total", "tracking_request_log_buffered"} <= samples


@pytest.mark.parametrize(
    ("route", "params"),
    [
        ("/api/usage/daily", {"from": "2025-06-01", "till": "2025-06-08"}),
        ("/api/usage/top-clients", {"from": "2025-06-01T00:00:00Z"}),
    ],
)
async def test_a_settled_answer_revalidates_with_its_etag(
    http: Http, admin_headers: dict[str, str], route: str, params: dict[str, str]
) -> None:
    first = await http.get(route, headers=admin_headers, params=params)
    etag = first.headers["etag"]
    same = await http.get(
        route, headers={**admin_headers, "If-None-Match": f'W/"other", {etag}'}, params=params
    )
    other = await http.get(
        route, headers={**admin_headers, "If-None-Match": '"other"'}, params=params
    )

    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "private, no-cache"
    assert first.headers["vary"] == "Authorization, X-API-Key"
    assert (same.status_code, same.content, same.headers["etag"]) == (304, b"", etag)
    assert (other.status_code, other.json()) == (200, first.json())


async def test_a_range_with_today_in_it_is_open(http: Http, tenant_a: Tenant) -> None:
    answer = await http.get("/api/usage/daily", headers=tenant_a.headers)

    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "private, max-age=0"
    assert answer.headers["etag"].startswith('"')


async def test_a_clients_etag_is_of_its_own_answer(
    http: Http, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    """Same question, two tenants: each its own answer (its own client_id in it), so the
    one's ETag does not revalidate the other's."""
    params = {"from": "2025-06-01", "till": "2025-06-02"}
    a = await http.get("/api/usage/daily", headers=tenant_a.headers, params=params)
    b = await http.get(
        "/api/usage/daily",
        headers={**tenant_b.headers, "If-None-Match": a.headers["etag"]},
        params=params,
    )

    assert (a.json()["client_id"], b.status_code) == (tenant_a.id, 200)
    assert b.json()["client_id"] == tenant_b.id
