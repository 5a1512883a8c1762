"""Ingest of events older than the client's retention, over HTTP on each storage: refused
(`occurred_at_past_retention`), a single event with 400 and a batch per item, its neighbours
stored; the import of history too; a change of retention applies at once."""

from datetime import UTC, datetime, timedelta

from tests.integration.http_helpers import Http, Tenant, assert_problem, event, register

CODE = "occurred_at_past_retention"


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


async def keeping(http: Http, admin_headers: dict[str, str], days: int | None) -> Tenant:
    tenant = await register(http, admin_headers)
    answer = await http.patch(
        f"/api/clients/{tenant.id}", headers=admin_headers, json={"retention_days": days}
    )
    assert answer.status_code == 200, answer.text
    return tenant


async def test_a_single_event_past_the_retention_is_refused(
    http: Http, admin_headers: dict[str, str]
) -> None:
    tenant = await keeping(http, admin_headers, 7)

    old = await http.post("/api/event", headers=tenant.headers, json=event(occurred_at=ago(days=8)))
    recent = await http.post(
        "/api/event", headers=tenant.headers, json=event(occurred_at=ago(days=6))
    )

    problem = assert_problem(old, 400, CODE)
    assert "keeps events 7 days" in problem["detail"]
    assert recent.status_code == 201, recent.text


async def test_a_batch_refuses_only_its_items_past_the_retention(
    http: Http, admin_headers: dict[str, str]
) -> None:
    tenant = await keeping(http, admin_headers, 7)
    events = [event(occurred_at=ago(days=1)), event(occurred_at=ago(days=30)), event()]

    for route in ("/api/events", "/api/import"):
        answer = await http.post(route, headers=tenant.headers, json={"events": events})

        body = answer.json()
        assert (body["stored"], body["rejected"]) == (2, 1), body
        (refused,) = [item for item in body["results"] if item["status"] == "rejected"]
        assert (refused["index"], refused["error"]["code"]) == (1, CODE)


async def test_a_longer_retention_takes_the_older_events_at_once(
    http: Http, admin_headers: dict[str, str]
) -> None:
    """The retention travels with the credential's cached principal: a change is announced,
    so the next request is judged by it."""
    tenant = await keeping(http, admin_headers, 7)
    body = event(occurred_at=ago(days=10))
    refused = await http.post("/api/event", headers=tenant.headers, json=body)

    await http.patch(
        f"/api/clients/{tenant.id}", headers=admin_headers, json={"retention_days": 30}
    )
    taken = await http.post("/api/event", headers=tenant.headers, json=body)

    assert_problem(refused, 400, CODE)
    assert taken.status_code == 201, taken.text
