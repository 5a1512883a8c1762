"""GET /api/events: filters, order, pages, and a 400 for a query that makes no sense."""

from typing import Any

import pytest

from tests.integration.http_helpers import Http, Tenant, assert_problem, event

HOURS = [f"2025-03-01T{hour:02d}:00:00Z" for hour in range(6)]


async def seed(http: Http, tenant: Tenant) -> None:
    items = [
        event(user_id="alice" if n % 2 == 0 else "bob", action=f"act{n % 3}", occurred_at=at)
        for n, at in enumerate(HOURS)
    ]
    answer = await http.post("/api/events", headers=tenant.headers, json={"events": items})
    assert answer.json()["stored"] == len(HOURS)


async def occurred(http: Http, tenant: Tenant, **params: str) -> list[str]:
    answer = await http.get("/api/events", headers=tenant.headers, params=params)
    assert answer.status_code == 200, answer.text
    assert answer.json()["next_cursor"] is None
    return [e["occurred_at"].replace("+00:00", "Z") for e in answer.json()["events"]]


async def test_events_come_newest_first_by_default_and_oldest_first_on_asking(
    http: Http, tenant_a: Tenant
) -> None:
    await seed(http, tenant_a)

    assert await occurred(http, tenant_a) == HOURS[::-1]
    assert await occurred(http, tenant_a, order="desc") == HOURS[::-1]
    assert await occurred(http, tenant_a, order="asc") == HOURS


async def test_from_is_inclusive_and_till_exclusive(http: Http, tenant_a: Tenant) -> None:
    await seed(http, tenant_a)

    window = await occurred(http, tenant_a, order="asc", **{"from": HOURS[1], "till": HOURS[4]})

    assert window == HOURS[1:4]


async def test_user_id_and_action_filter_the_events(http: Http, tenant_a: Tenant) -> None:
    await seed(http, tenant_a)

    assert await occurred(http, tenant_a, order="asc", user_id="bob") == HOURS[1::2]
    assert await occurred(http, tenant_a, order="asc", action="act0") == [HOURS[0], HOURS[3]]
    assert await occurred(http, tenant_a, user_id="alice", action="act1") == [HOURS[4]]
    assert await occurred(http, tenant_a, user_id="nobody") == []


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_pages_follow_next_cursor_until_it_is_null(
    http: Http, tenant_a: Tenant, order: str
) -> None:
    await seed(http, tenant_a)
    seen: list[str] = []
    params = {"order": order, "limit": "4"}

    first = (await http.get("/api/events", headers=tenant_a.headers, params=params)).json()
    params["cursor"] = first["next_cursor"]
    second = (await http.get("/api/events", headers=tenant_a.headers, params=params)).json()
    seen = [e["occurred_at"].replace("+00:00", "Z") for e in first["events"] + second["events"]]

    assert len(first["events"]) == 4
    assert first["next_cursor"]
    assert len(second["events"]) == 2
    assert second["next_cursor"] is None
    assert seen == (HOURS if order == "asc" else HOURS[::-1])


async def test_a_cursor_made_for_one_order_is_refused_for_the_other(
    http: Http, tenant_a: Tenant
) -> None:
    await seed(http, tenant_a)
    page = await http.get("/api/events", headers=tenant_a.headers, params={"limit": "1"})

    answer = await http.get(
        "/api/events",
        headers=tenant_a.headers,
        params={"order": "asc", "cursor": page.json()["next_cursor"]},
    )

    body = assert_problem(answer, 400, "invalid_cursor")
    assert body["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"limit": "0"}, "invalid_request", "limit"),
        ({"limit": "1001"}, "invalid_request", "limit"),
        ({"limit": "many"}, "invalid_request", "limit"),
        ({"order": "sideways"}, "invalid_request", "order"),
        ({"from": "2025-03-01T00:00:00"}, "invalid_query", "from"),
        ({"till": "2025-03-01T00:00:00"}, "invalid_query", "till"),
        ({"from": "yesterday"}, "invalid_query", "from"),
        ({"till": "tomorrow"}, "invalid_query", "till"),
        ({"from": HOURS[2], "till": HOURS[2]}, "invalid_query", "till"),
        ({"from": HOURS[3], "till": HOURS[2]}, "invalid_query", "till"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor", "cursor"),
        ({"client_id": "not-a-uuid"}, "invalid_request", "client_id"),
    ],
    ids=[
        "limit-0",
        "limit-1001",
        "limit-not-a-number",
        "unknown-order",
        "naive-from",
        "naive-till",
        "from-not-a-datetime",
        "till-not-a-datetime",
        "from-equals-till",
        "from-after-till",
        "bad-cursor",
        "client-id-not-a-uuid",
    ],
)
async def test_a_query_that_makes_no_sense_is_a_400_naming_the_parameter(
    http: Http, tenant_a: Tenant, params: dict[str, str], code: str, field: str
) -> None:
    answer = await http.get("/api/events", headers=tenant_a.headers, params=params)

    body: dict[str, Any] = assert_problem(answer, 400, code)
    assert [e["field"] for e in body["errors"]] == [field]


async def test_limit_defaults_to_100(http: Http, tenant_a: Tenant) -> None:
    items = [event(user_id=n) for n in range(101)]
    await http.post("/api/events", headers=tenant_a.headers, json={"events": items})

    answer = await http.get("/api/events", headers=tenant_a.headers)

    assert len(answer.json()["events"]) == 100
    assert answer.json()["next_cursor"] is not None
