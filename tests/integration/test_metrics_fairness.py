"""One tenant's history never burdens the others: late events recompute their own client's rows,
and newly due windows are computed before anyone's stale or imported ones."""

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.http_helpers import Http, Tenant
from tests.integration.http_metrics_helpers import by_start, calculate, send, stamp, yesterday


def history(count: int) -> dict[str, Any]:
    """One event in each of `count` distinct windows of 2001, one a day."""
    start = datetime(2001, 1, 1, 1, tzinfo=UTC)
    return {
        "events": [
            {"user_id": "old", "action": "a", "occurred_at": stamp(start + timedelta(days=day))}
            for day in range(count)
        ]
    }


async def test_a_late_event_recomputes_only_its_own_clients_rows_of_the_window(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant, tenant_b: Tenant
) -> None:
    await send(http, tenant_a, (5, "a1"))
    await send(http, tenant_b, (6, "b1"))
    await calculate(http, admin_headers)

    await send(http, tenant_b, (7, "b2"))
    log = by_start(
        (await http.get("/api/metrics/windows", headers=admin_headers)).json()["windows"]
    )
    run = await calculate(http, admin_headers)

    assert log[yesterday(4)]["stale_clients"] == [tenant_b.id]
    [recomputed] = [w for w in run["windows"] if w["kind"] == "recomputed"]
    assert recomputed["clients"] == [tenant_b.id]
    assert (recomputed["users"], recomputed["events"]) == (3, 3)  # the window's, every client's
    rows = await http.get("/api/metrics", headers=tenant_b.headers)
    assert sorted(r["user_id"] for r in rows.json()["metrics"]) == ["b1", "b2"]


async def test_newly_due_windows_are_computed_before_another_tenants_imported_history(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant, tenant_b: Tenant
) -> None:
    imported = await http.post("/api/import", headers=tenant_a.headers, json=history(200))
    assert imported.json()["stored"] == 200, imported.text
    await send(http, tenant_b, (5, "b1"), (9, "b1"))

    run = await calculate(http, admin_headers)

    computed = [(w["start"], w.get("clients")) for w in run["windows"]]
    assert computed[:2] == [(stamp(yesterday(4)), None), (stamp(yesterday(8)), None)]
    assert all(clients == [tenant_a.id] for _, clients in computed[2:])
    assert len(computed) == 42  # TRACKING_METRICS_MAX_WINDOWS
    assert run["pending"] == 200 - 40
    assert run["pending_by_client"] == {tenant_a.id: 160}
    rows = await http.get("/api/metrics", headers=tenant_b.headers)
    assert [r["event_count"] for r in rows.json()["metrics"]] == [1, 1]


async def test_imported_history_is_computed_oldest_first_over_the_next_runs(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant
) -> None:
    await http.post("/api/import", headers=tenant_a.headers, json=history(50))

    first = await calculate(http, admin_headers)
    second = await calculate(http, admin_headers)
    third = await calculate(http, admin_headers)

    starts = [w["start"] for run in (first, second) for w in run["windows"]]
    assert starts == sorted(starts)
    assert len(starts) == 50
    assert (second["pending"], second["pending_by_client"]) == (0, {})
    assert third["windows"] == []
    rows = await http.get("/api/metrics", headers=tenant_a.headers, params={"limit": 1000})
    assert len(rows.json()["metrics"]) == 50
