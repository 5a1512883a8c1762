"""POST /api/metrics runs the calculation; GET /api/metrics/windows is its run log. Admins only."""

from datetime import datetime, timedelta
from typing import Any

from tests.integration.http_helpers import Http, Tenant, assert_problem
from tests.integration.http_metrics_helpers import (
    by_start,
    calculate,
    run_lock_held_elsewhere,
    send,
    stamp,
    yesterday,
)
from tracking.bootstrap import Container


async def test_only_an_admin_may_run_the_calculation(http: Http, tenant_a: Tenant) -> None:
    await send(http, tenant_a, (5, "u1"))

    as_client = await http.post("/api/metrics", headers=tenant_a.headers)
    anonymous = await http.post("/api/metrics")

    assert_problem(as_client, 403, "admin_required")
    assert_problem(anonymous, 401, "missing_credentials")
    rows = await http.get("/api/metrics", headers=tenant_a.headers)
    assert rows.json()["metrics"] == []


async def test_a_run_answers_each_window_it_computed_oldest_first(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant, tenant_b: Tenant
) -> None:
    await send(http, tenant_a, (5, "u1"), (6, "u1"), (7, "u2"))
    await send(http, tenant_b, (9, "u1"))

    run = await calculate(http, admin_headers)

    assert run["pending"] == 0
    starts = [w["start"] for w in run["windows"]]
    assert starts == [stamp(yesterday(h)) for h in (4, 8)]  # the windows with events
    assert run["empty"] > 0  # the due windows after them, yesterday's 12:00 on
    first, second = run["windows"][:2]
    assert first == {
        "start": stamp(yesterday(4)),
        "end": stamp(yesterday(8)),
        "users": 2,
        "events": 3,
        "kind": "computed",
    }
    assert (second["users"], second["events"], second["kind"]) == (1, 1, "computed")
    again = await calculate(http, admin_headers)
    assert not set(starts) & {w["start"] for w in again["windows"]}


async def test_a_late_event_gets_only_its_window_recomputed(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant
) -> None:
    await send(http, tenant_a, (5, "u1"), (9, "u1"))
    await calculate(http, admin_headers)

    await send(http, tenant_a, (6, "u2"))
    run = await calculate(http, admin_headers)

    recomputed = [w for w in run["windows"] if w["kind"] == "recomputed"]
    assert recomputed == [
        {
            "start": stamp(yesterday(4)),
            "end": stamp(yesterday(8)),
            "users": 2,
            "events": 2,
            "kind": "recomputed",
            "clients": [tenant_a.id],
        }
    ]
    rows = await http.get("/api/metrics", headers=tenant_a.headers, params={"user_id": "u2"})
    assert [r["event_count"] for r in rows.json()["metrics"]] == [1]


async def test_only_an_admin_may_read_the_run_log(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant
) -> None:
    await send(http, tenant_a, (5, "u1"))
    await calculate(http, admin_headers)

    answer = await http.get("/api/metrics/windows", headers=tenant_a.headers)

    assert_problem(answer, 403, "admin_required")


async def test_the_run_log_shows_stale_windows_and_computed_ones_with_their_figures(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant
) -> None:
    # Sent today for yesterday, these events are late: their windows are stale at once.
    await send(http, tenant_a, (5, "u1"), (6, "u2"))

    async def run_log() -> dict[datetime, dict[str, Any]]:
        answer = await http.get("/api/metrics/windows", headers=admin_headers)
        assert answer.status_code == 200, answer.text
        return by_start(answer.json()["windows"])

    waiting = (await run_log())[yesterday(4)]
    assert waiting == {
        "start": stamp(yesterday(4)),
        "end": stamp(yesterday(8)),
        "stale": True,
        "stale_clients": [tenant_a.id],
    }

    await calculate(http, admin_headers)
    computed = (await run_log())[yesterday(4)]
    assert computed["stale"] is False
    assert (computed["kind"], computed["users"], computed["events"]) == ("computed", 2, 2)
    assert computed["computations"] == 1
    assert "computed_at" in computed

    await send(http, tenant_a, (7, "u3"))
    assert (await run_log())[yesterday(4)] == computed | {
        "stale": True,
        "stale_clients": [tenant_a.id],
    }

    await calculate(http, admin_headers)
    recomputed = (await run_log())[yesterday(4)]
    assert (recomputed["stale"], recomputed["kind"], recomputed["computations"]) == (
        False,
        "recomputed",
        2,
    )
    assert (recomputed["users"], recomputed["events"]) == (3, 3)


async def test_the_run_log_lists_the_windows_whose_start_is_in_from_till(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant
) -> None:
    await send(http, tenant_a, (5, "u1"), (9, "u1"), (13, "u1"))
    await calculate(http, admin_headers)
    params = {"from": stamp(yesterday(8)), "till": stamp(yesterday(12))}

    answer = await http.get("/api/metrics/windows", headers=admin_headers, params=params)

    assert [w["start"] for w in answer.json()["windows"]] == [stamp(yesterday(8))]
    params["till"] = stamp(yesterday(8) - timedelta(hours=1))
    backwards = await http.get("/api/metrics/windows", headers=admin_headers, params=params)
    assert_problem(backwards, 400, "invalid_query")


async def test_a_run_while_another_holds_the_lock_is_answered_202(
    http: Http, admin_headers: dict[str, str], container: Container, tenant_a: Tenant
) -> None:
    await send(http, tenant_a, (5, "u1"))

    async with run_lock_held_elsewhere(container) as held:
        answer = await http.post("/api/metrics", headers=admin_headers)

    assert held
    assert (answer.status_code, answer.json()) == (202, {"already_running": True})
    assert (await calculate(http, admin_headers))["windows"][0]["start"] == stamp(yesterday(4))
