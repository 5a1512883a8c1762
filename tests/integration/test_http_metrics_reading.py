"""GET /api/metrics: a tenant's own rows only, filtered by user and window start, in pages."""

from typing import Any

import pytest

from tests.integration.http_helpers import Http, Tenant, assert_problem
from tests.integration.http_metrics_helpers import calculate, send, stamp, yesterday


async def rows(http: Http, headers: dict[str, str], **params: str) -> list[tuple[str, str, int]]:
    """`(window start, user_id, event_count)` of one page that is the last one."""
    answer = await http.get("/api/metrics", headers=headers, params=params)
    assert answer.status_code == 200, answer.text
    assert answer.json()["next_cursor"] is None
    return [
        (row["window_start"], row["user_id"], row["event_count"])
        for row in answer.json()["metrics"]
    ]


@pytest.fixture
async def computed(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant, tenant_b: Tenant
) -> None:
    """A: "shared" twice and "solo" once in the 04:00 window, "shared" at 09:00 and 13:00.
    B: "shared" three times at 05:00."""
    await send(http, tenant_a, (5, "shared"), (6, "shared"), (7, "solo"), (9, "shared"))
    await send(http, tenant_a, (13, "shared"))
    await send(http, tenant_b, (5, "shared"), (5.5, "shared"), (6, "shared"))
    await calculate(http, admin_headers)


A_ROWS = [
    (stamp(yesterday(4)), "shared", 2),
    (stamp(yesterday(4)), "solo", 1),
    (stamp(yesterday(8)), "shared", 1),
    (stamp(yesterday(12)), "shared", 1),
]


@pytest.mark.usefixtures("computed")
async def test_each_client_reads_only_its_own_rows(
    http: Http, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    assert await rows(http, tenant_a.headers) == A_ROWS
    assert await rows(http, tenant_b.headers) == [(stamp(yesterday(4)), "shared", 3)]
    assert await rows(http, tenant_b.headers, user_id="solo") == []


@pytest.mark.usefixtures("computed")
async def test_a_client_naming_another_client_is_forbidden(
    http: Http, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    answer = await http.get(
        "/api/metrics", headers=tenant_b.headers, params={"client_id": tenant_a.id}
    )

    assert_problem(answer, 403, "forbidden_client")


@pytest.mark.usefixtures("computed")
async def test_an_admin_reads_a_client_by_naming_it(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant
) -> None:
    assert await rows(http, admin_headers, client_id=tenant_a.id) == A_ROWS
    assert await rows(http, admin_headers) == []  # its own: it sent no events


@pytest.mark.usefixtures("computed")
async def test_a_row_has_every_figure(http: Http, tenant_a: Tenant) -> None:
    answer = await http.get("/api/metrics", headers=tenant_a.headers, params={"user_id": "solo"})

    (row,) = answer.json()["metrics"]
    assert {k: v for k, v in row.items() if k != "computed_at"} == {
        "user_id": "solo",
        "window_start": stamp(yesterday(4)),
        "window_end": stamp(yesterday(8)),
        "event_count": 1,
        "distinct_actions": 1,
        "action_counts": {"page.view": 1},
        "first_event_at": stamp(yesterday(7)),
        "last_event_at": stamp(yesterday(7)),
    }


@pytest.mark.usefixtures("computed")
async def test_user_id_from_and_till_filter_the_rows(http: Http, tenant_a: Tenant) -> None:
    headers = tenant_a.headers
    eight, twelve = stamp(yesterday(8)), stamp(yesterday(12))

    assert await rows(http, headers, user_id="shared") == [A_ROWS[0], A_ROWS[2], A_ROWS[3]]
    assert await rows(http, headers, **{"from": eight}) == A_ROWS[2:]
    assert await rows(http, headers, till=eight) == A_ROWS[:2]
    assert await rows(http, headers, **{"from": eight, "till": twelve}) == [A_ROWS[2]]


async def test_pages_walk_every_row_once_in_window_then_user_order(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant
) -> None:
    users = [f"u{n}" for n in range(5)]
    await send(http, tenant_a, *[(at, user) for user in users for at in (5, 9)])
    await calculate(http, admin_headers)
    seen: list[tuple[str, str]] = []
    sizes = []
    params = {"limit": "3"}

    while True:
        answer = await http.get("/api/metrics", headers=tenant_a.headers, params=params)
        page = answer.json()
        sizes.append(len(page["metrics"]))
        seen += [(row["window_start"], row["user_id"]) for row in page["metrics"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]

    assert sizes == [3, 3, 3, 1]
    assert seen == [(stamp(yesterday(at)), user) for at in (4, 8) for user in users]


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"limit": "0"}, "invalid_request", "limit"),
        ({"limit": "1001"}, "invalid_request", "limit"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor", "cursor"),
        ({"from": "2025-03-01T04:00:00Z", "till": "2025-03-01T04:00:00Z"}, "invalid_query", "till"),
        ({"from": "2025-03-01T08:00:00Z", "till": "2025-03-01T04:00:00Z"}, "invalid_query", "till"),
        ({"from": "2025-03-01T04:00:00"}, "invalid_query", "from"),
    ],
    ids=["limit-0", "limit-1001", "bad-cursor", "from-equals-till", "from-after-till", "naive"],
)
async def test_a_query_that_makes_no_sense_is_a_400(
    http: Http, tenant_a: Tenant, params: dict[str, str], code: str, field: str
) -> None:
    answer = await http.get("/api/metrics", headers=tenant_a.headers, params=params)

    body: dict[str, Any] = assert_problem(answer, 400, code)
    assert [e["field"] for e in body["errors"]] == [field]


async def test_a_cursor_of_the_event_listing_is_refused(http: Http, tenant_a: Tenant) -> None:
    await send(http, tenant_a, (5, "u1"), (6, "u1"))
    events = await http.get("/api/events", headers=tenant_a.headers, params={"limit": "1"})

    answer = await http.get(
        "/api/metrics", headers=tenant_a.headers, params={"cursor": events.json()["next_cursor"]}
    )

    assert_problem(answer, 400, "invalid_cursor")
