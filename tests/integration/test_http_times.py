"""Times as a hostile or careless sender writes them: one reading everywhere, truncated to the
microsecond, aware on every storage; live ingest takes recent events, history is imported."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.http_helpers import Http, Tenant, assert_problem
from tests.integration.http_metrics_helpers import stamp, yesterday


def one(occurred_at: str, **fields: Any) -> dict[str, Any]:
    return {"user_id": "u1", "action": "a", "occurred_at": occurred_at} | fields


async def listed(http: Http, tenant: Tenant, **params: str) -> list[dict[str, Any]]:
    answer = await http.get("/api/events", headers=tenant.headers, params=params)
    assert answer.status_code == 200, answer.text
    events: list[dict[str, Any]] = answer.json()["events"]
    return events


DEFAULT_MAX_AGE = pytest.mark.parametrize("event_max_age_days", [30])


@DEFAULT_MAX_AGE
@pytest.mark.parametrize(
    "occurred_at", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000001Z", "1950-06-01T00:00:00Z"]
)
async def test_an_event_from_long_ago_is_refused_and_metrics_keep_working_for_everyone(
    http: Http, tenant_a: Tenant, admin_headers: dict[str, str], occurred_at: str
) -> None:
    refused = await http.post("/api/event", headers=tenant_a.headers, json=one(occurred_at))
    imported = await http.post(
        "/api/import", headers=tenant_a.headers, json={"events": [one(occurred_at)]}
    )

    assert_problem(refused, 400, "occurred_at_too_old")
    assert imported.status_code == 200, imported.text
    [result] = imported.json()["results"]
    assert result["error"]["code"] == "invalid_occurred_at"
    assert await listed(http, tenant_a) == []
    run = await http.post("/api/metrics", headers=admin_headers)
    log = await http.get("/api/metrics/windows", headers=admin_headers)
    assert (run.status_code, log.status_code) == (200, 200), (run.text, log.text)


async def test_an_instant_a_tenth_of_a_microsecond_before_a_boundary_stays_before_it(
    http: Http, tenant_a: Tenant
) -> None:
    boundary = yesterday(8)
    day = boundary.strftime("%Y-%m-%d")
    answer = await http.post(
        "/api/event", headers=tenant_a.headers, json=one(f"{day}T07:59:59.9999999Z")
    )

    assert answer.status_code == 201, answer.text
    [stored] = await listed(http, tenant_a)
    assert stored["occurred_at"] == stamp(boundary - timedelta(microseconds=1))


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("T10:00:00.1Z", timedelta(hours=10, milliseconds=100)),
        ("T10:00:00.123456789+00:00", timedelta(hours=10, microseconds=123456)),
        ("t10:00:00z", timedelta(hours=10)),
        (" 12:00:00+02:00", timedelta(hours=10)),
        ("T09:59:59.9999999999999999999-00:00", timedelta(hours=10, microseconds=-1)),
    ],
)
async def test_any_number_of_fractional_digits_and_rfc_3339_spellings_are_read_alike(
    http: Http, tenant_a: Tenant, written: str, meant: timedelta
) -> None:
    day = yesterday(0)
    answer = await http.post(
        "/api/event", headers=tenant_a.headers, json=one(day.strftime("%Y-%m-%d") + written)
    )

    assert answer.status_code == 201, answer.text
    [stored] = await listed(http, tenant_a)
    assert datetime.fromisoformat(stored["occurred_at"]) == day + meant


@pytest.mark.parametrize(
    "occurred_at",
    [
        "2025-01-01",
        "2025-01-01T12:00:00",
        "2025-02-30T12:00:00Z",
        "2025-01-01T24:00:00Z",
        "2025-01-01T12:00:60Z",
        "2025-01-01T12:00Z",
        "2025-W01-1T12:00:00Z",
        "20250101T120000Z",
        "yesterday",
        "",
    ],
)
async def test_a_time_that_is_not_rfc_3339_with_an_offset_is_invalid_occurred_at(
    http: Http, tenant_a: Tenant, occurred_at: str
) -> None:
    answer = await http.post("/api/event", headers=tenant_a.headers, json=one(occurred_at))

    body = assert_problem(answer, 400, "invalid_occurred_at")
    assert body["errors"][0]["field"] == "occurred_at"


@DEFAULT_MAX_AGE
async def test_live_ingest_takes_events_up_to_the_maximum_age_and_refuses_older(
    http: Http, tenant_a: Tenant
) -> None:
    now = datetime.now(UTC)
    recent = stamp(now - timedelta(days=29))
    old = stamp(now - timedelta(days=31))
    answer = await http.post(
        "/api/events", headers=tenant_a.headers, json={"events": [one(recent), one(old)]}
    )

    assert [r["status"] for r in answer.json()["results"]] == ["stored", "rejected"]
    error = answer.json()["results"][1]["error"]
    assert (error["code"], error["field"]) == ("occurred_at_too_old", "occurred_at")
    assert "import" in error["message"]


async def test_history_is_imported_with_the_same_deduplication_and_reads_back_in_utc(
    http: Http, tenant_a: Tenant
) -> None:
    body = {
        "events": [
            one("1970-01-01T00:00:00Z", id="0190a4f2-0000-7000-8000-000000000001"),
            one("1999-12-31T23:59:59.9999999-05:00", id="0190a4f2-0000-7000-8000-000000000002"),
        ]
    }
    first = await http.post("/api/import", headers=tenant_a.headers, json=body)
    again = await http.post("/api/import", headers=tenant_a.headers, json=body)

    assert (first.json()["stored"], again.json()["duplicates"]) == (2, 2), first.text
    times = [e["occurred_at"] for e in await listed(http, tenant_a, order="asc")]
    assert times == ["1970-01-01T00:00:00Z", "2000-01-01T04:59:59.999999Z"]


async def test_query_times_are_read_by_the_same_rules(http: Http, tenant_a: Tenant) -> None:
    at = yesterday(7) + timedelta(minutes=59, seconds=59, microseconds=999999)
    await http.post("/api/event", headers=tenant_a.headers, json=one(stamp(at)))
    seven_digits = stamp(at.replace(microsecond=0)).replace("Z", ".9999999Z")

    found = await listed(http, tenant_a, **{"from": seven_digits})
    bad = await http.get("/api/events", headers=tenant_a.headers, params={"from": "yesterday"})
    naive = await http.get(
        "/api/metrics", headers=tenant_a.headers, params={"till": "2025-01-01T00:00:00"}
    )

    assert len(found) == 1
    assert_problem(bad, 400, "invalid_query")
    assert_problem(naive, 400, "invalid_query")
