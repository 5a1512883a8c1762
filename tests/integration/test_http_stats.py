"""GET /api/stats/daily and /api/stats/series on each storage: a tenant's own figures only,
days and hours of a time zone across daylight saving changes, answers cached with an ETag and
exact after late events."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.http_helpers import Http, Tenant, assert_problem, event

Json = dict[str, Any]
# Fixed dates of history, sent through the import (any time from 1970 on).
DAY = "2025-06-10"
NOON = "2025-06-10T12:00:00Z"
NEW_YORK = "America/New_York"


async def imported(http: Http, tenant: Tenant, *events: Json) -> None:
    answer = await http.post("/api/import", headers=tenant.headers, json={"events": list(events)})
    assert answer.status_code == 200, answer.text
    assert answer.json()["stored"] == len(events), answer.text


async def daily(http: Http, headers: dict[str, str], **params: str) -> Json:
    answer = await http.get("/api/stats/daily", headers=headers, params=params)
    assert answer.status_code == 200, answer.text
    body: Json = answer.json()
    return body


async def series(http: Http, headers: dict[str, str], **params: str) -> list[tuple[str, int, int]]:
    answer = await http.get("/api/stats/series", headers=headers, params=params)
    assert answer.status_code == 200, answer.text
    return [(p["start"], p["events"], p["unique_users"]) for p in answer.json()["points"]]


@pytest.fixture
async def a_day(http: Http, tenant_a: Tenant, tenant_b: Tenant) -> None:
    """A: four events by two users on DAY (one path, one page, one number, one without);
    B: one event that day."""
    await imported(
        http,
        tenant_a,
        event(user_id="u1", action="view", occurred_at=NOON, metadata={"path": "/home"}),
        event(user_id="u1", action="click", occurred_at=NOON, metadata={"page": "/home"}),
        event(
            user_id="u2", action="view", occurred_at="2025-06-10T23:59:59Z", metadata={"path": 7}
        ),
        event(user_id="u2", action="view", occurred_at="2025-06-10T00:00:00Z"),
        event(user_id="u3", action="view", occurred_at="2025-06-11T00:00:00Z"),  # the next day
    )
    await imported(http, tenant_b, event(user_id="b1", action="buy", occurred_at=NOON))


A_DAY = {
    "date": DAY,
    "time_zone": "UTC",
    "start": "2025-06-10T00:00:00Z",
    "end": "2025-06-11T00:00:00Z",
    "hours": 24.0,
    "total_events": 4,
    "unique_users": 2,
    "top_actions": [{"action": "view", "events": 3}, {"action": "click", "events": 1}],
    "top_paths": [{"path": "/home", "events": 2}],
}


@pytest.mark.usefixtures("a_day")
async def test_a_day_shows_the_callers_figures_only(
    http: Http, tenant_a: Tenant, tenant_b: Tenant, admin_headers: dict[str, str]
) -> None:
    assert await daily(http, tenant_a.headers, date=DAY) == A_DAY
    b = await daily(http, tenant_b.headers, date=DAY)
    assert (b["total_events"], b["unique_users"], b["top_actions"]) == (
        1,
        1,
        [{"action": "buy", "events": 1}],
    )
    assert await daily(http, admin_headers, date=DAY, client_id=tenant_a.id) == A_DAY
    assert (await daily(http, admin_headers, date=DAY))["total_events"] == 0


@pytest.mark.usefixtures("a_day")
async def test_a_series_shows_the_callers_figures_only(
    http: Http, tenant_a: Tenant, tenant_b: Tenant, admin_headers: dict[str, str]
) -> None:
    days = {"from": "2025-06-09", "till": "2025-06-12"}
    a_points = [
        ("2025-06-09T00:00:00Z", 0, 0),
        ("2025-06-10T00:00:00Z", 4, 2),
        ("2025-06-11T00:00:00Z", 1, 1),
    ]

    assert await series(http, tenant_a.headers, **days) == a_points
    assert [p[1] for p in await series(http, tenant_b.headers, **days)] == [0, 1, 0]
    assert await series(http, admin_headers, **days, client_id=tenant_a.id) == a_points
    views = await series(http, tenant_a.headers, **days, action="view")
    assert [p[1:] for p in views] == [(0, 0), (3, 2), (1, 1)]


@pytest.mark.parametrize("route", ["/api/stats/daily", "/api/stats/series"])
@pytest.mark.usefixtures("a_day")
async def test_a_client_naming_another_client_is_forbidden(
    http: Http, tenant_a: Tenant, tenant_b: Tenant, route: str
) -> None:
    params = {"client_id": tenant_a.id, "from": DAY, "till": "2025-06-11", "date": DAY}

    answer = await http.get(route, headers=tenant_b.headers, params=params)

    assert_problem(answer, 403, "forbidden_client")


async def test_a_day_of_a_zone_follows_its_clocks_across_the_fall_back(
    http: Http, tenant_a: Tenant
) -> None:
    # New York, 2025-11-02: 01:00-02:00 happens twice, at -04:00 then at -05:00.
    await imported(
        http,
        tenant_a,
        event(user_id="early", occurred_at="2025-11-02T04:00:00Z"),  # 00:00-04:00, its start
        event(user_id="first", occurred_at="2025-11-02T05:30:00Z"),  # 01:30-04:00
        event(user_id="again", occurred_at="2025-11-02T06:30:00Z"),  # 01:30-05:00
        event(user_id="late", occurred_at="2025-11-03T04:59:59Z"),  # 23:59:59-05:00
        event(user_id="next", occurred_at="2025-11-03T05:00:00Z"),  # the next day
    )

    day = await daily(http, tenant_a.headers, date="2025-11-02", tz=NEW_YORK)
    hours = await series(
        http,
        tenant_a.headers,
        interval="hour",
        tz=NEW_YORK,
        **{"from": "2025-11-02T00:00:00-04:00", "till": "2025-11-02T03:00:00-05:00"},
    )

    assert (day["start"], day["end"], day["hours"]) == (
        "2025-11-02T00:00:00-04:00",
        "2025-11-03T00:00:00-05:00",
        25.0,
    )
    assert (day["total_events"], day["unique_users"]) == (4, 4)
    assert hours == [
        ("2025-11-02T00:00:00-04:00", 1, 1),
        ("2025-11-02T01:00:00-04:00", 1, 1),
        ("2025-11-02T01:00:00-05:00", 1, 1),
        ("2025-11-02T02:00:00-05:00", 0, 0),
    ]


async def test_a_day_series_over_the_spring_forward_has_a_23_hour_day(
    http: Http, tenant_a: Tenant
) -> None:
    await imported(http, tenant_a, event(occurred_at="2025-03-09T06:59:59Z"))  # 01:59:59-05:00

    points = await series(
        http, tenant_a.headers, tz=NEW_YORK, **{"from": "2025-03-08", "till": "2025-03-11"}
    )
    hours = await series(
        http,
        tenant_a.headers,
        tz=NEW_YORK,
        interval="hour",
        **{"from": "2025-03-09", "till": "2025-03-10"},
    )

    assert points == [
        ("2025-03-08T00:00:00-05:00", 0, 0),
        ("2025-03-09T00:00:00-05:00", 1, 1),
        ("2025-03-10T00:00:00-04:00", 0, 0),
    ]
    assert len(hours) == 23
    assert [p[0] for p in hours[1:3]] == ["2025-03-09T01:00:00-05:00", "2025-03-09T03:00:00-04:00"]


@pytest.mark.usefixtures("a_day")
async def test_a_settled_day_revalidates_with_its_etag_and_a_late_event_changes_it(
    http: Http, tenant_a: Tenant
) -> None:
    first = await http.get("/api/stats/daily", headers=tenant_a.headers, params={"date": DAY})
    etag = first.headers["etag"]
    same = await http.get(
        "/api/stats/daily",
        headers={**tenant_a.headers, "If-None-Match": etag},
        params={"date": DAY},
    )
    await imported(http, tenant_a, event(user_id="u9", occurred_at="2025-06-10T18:00:00Z"))
    changed = await http.get(
        "/api/stats/daily",
        headers={**tenant_a.headers, "If-None-Match": etag},
        params={"date": DAY},
    )

    assert first.headers["cache-control"] == "private, no-cache"
    assert "X-API-Key" in first.headers["vary"]
    assert (same.status_code, same.content, same.headers["etag"]) == (304, b"", etag)
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert (changed.json()["total_events"], changed.json()["unique_users"]) == (5, 3)


@pytest.mark.parametrize(
    ("given", "status"),
    [("{etag}", 304), ('W/"other", {etag}', 304), ("W/{etag}", 304), ("*", 304), ('"other"', 200)],
)
async def test_if_none_match_compares_weakly_and_takes_a_list(
    http: Http, tenant_a: Tenant, given: str, status: int
) -> None:
    first = await http.get("/api/stats/daily", headers=tenant_a.headers, params={"date": DAY})
    header = given.format(etag=first.headers["etag"])

    again = await http.get(
        "/api/stats/daily",
        headers={**tenant_a.headers, "If-None-Match": header},
        params={"date": DAY},
    )

    assert again.status_code == status


async def test_today_is_open_and_may_be_kept_a_few_seconds(http: Http, tenant_a: Tenant) -> None:
    before = datetime.now(UTC).date().isoformat()
    answer = await http.get("/api/stats/daily", headers=tenant_a.headers)
    after = datetime.now(UTC).date().isoformat()

    assert answer.status_code == 200
    assert answer.json()["date"] in {before, after}
    assert answer.headers["cache-control"].startswith("private, max-age=")
    assert 0 <= int(answer.headers["cache-control"].rpartition("=")[2]) <= 15


async def test_a_recent_event_of_an_earlier_hour_changes_the_settled_answer(
    http: Http, tenant_a: Tenant
) -> None:
    """Through live ingest (`POST /api/events`): two hours ago is late for the hour series."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    hours = {
        "interval": "hour",
        "from": (now - timedelta(hours=3)).isoformat(),
        "till": (now - timedelta(hours=1)).isoformat(),
    }
    before = await series(http, tenant_a.headers, **hours)
    at = (now - timedelta(hours=2, minutes=-10)).isoformat()
    answer = await http.post(
        "/api/events", headers=tenant_a.headers, json={"events": [event(occurred_at=at)]}
    )
    assert answer.status_code == 200, answer.text

    after = await series(http, tenant_a.headers, **hours)

    assert [p[1] for p in before] == [0, 0]
    assert [p[1] for p in after] == [0, 1]


@pytest.mark.parametrize(
    ("route", "params", "code", "field"),
    [
        ("/api/stats/daily", {"tz": "Mars/Olympus_Mons"}, "invalid_time_zone", "tz"),
        ("/api/stats/daily", {"tz": "../../etc/passwd"}, "invalid_time_zone", "tz"),
        ("/api/stats/daily", {"date": "2025-02-30"}, "invalid_date", "date"),
        ("/api/stats/daily", {"date": "9999-12-31"}, "invalid_date", "date"),
        ("/api/stats/series", {"from": DAY, "till": DAY}, "invalid_till", "till"),
        (
            "/api/stats/series",
            {"from": DAY, "till": "2025-06-11", "tz": "Nowhere"},
            "invalid_time_zone",
            "tz",
        ),
        ("/api/stats/series", {"from": "2025-06-10T00:00:00", "till": DAY}, "invalid_from", "from"),
        (
            "/api/stats/series",
            {"from": DAY, "till": "2025-06-11", "action": "no spaces"},
            "invalid_action",
            "action",
        ),
        (
            "/api/stats/series",
            {"from": "2020-01-01", "till": "2025-01-01"},
            "too_many_points",
            "till",
        ),
        (
            "/api/stats/series",
            {"from": "2025-01-01", "till": "2025-03-01", "interval": "hour"},
            "too_many_points",
            "till",
        ),
        (
            "/api/stats/series",
            {"from": DAY, "till": "2025-06-11", "interval": "week"},
            "invalid_request",
            "interval",
        ),
    ],
)
async def test_a_question_that_makes_no_sense_is_a_400(  # noqa: PLR0917 - pytest's parameters
    http: Http, tenant_a: Tenant, route: str, params: dict[str, str], code: str, field: str
) -> None:
    answer = await http.get(route, headers=tenant_a.headers, params=params)

    body = assert_problem(answer, 400, code)
    assert [e["field"] for e in body["errors"]] == [field]


async def test_a_thousand_points_are_answered(http: Http, tenant_a: Tenant) -> None:
    points = await series(http, tenant_a.headers, **{"from": "2022-01-01", "till": "2024-09-27"})

    assert len(points) == 1000
