"""Privacy over HTTP, on each storage: erase, suppress, lift, export, the erasure log; and
tenant isolation (a client erases and exports only its own users, an admin any client's)."""

import json
from typing import Any

import msgspec

from tests.integration.http_helpers import Http, Tenant, assert_problem, event, register
from tracking.application.commands.record_events import NewEvent, RecordEvents
from tracking.application.commands.register_client import RegisterClient
from tracking.application.handlers import Handlers
from tracking.application.principal import Principal
from tracking.application.queries.export_user import ExportUser, ExportUserHandler

DAY = "2025-03-0{}T10:00:00Z"


async def record(http: Http, tenant: Tenant, user: str, count: int) -> None:
    events = [event(user_id=user, occurred_at=DAY.format(n % 5 + 1)) for n in range(count)]
    answer = await http.post("/api/events", headers=tenant.headers, json={"events": events})
    assert answer.json()["stored"] == count, answer.text


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


async def test_erasure_removes_the_users_events_and_metrics_and_corrects_the_run_log(
    http: Http, tenant_a: Tenant, admin_headers: dict[str, str]
) -> None:
    await record(http, tenant_a, "gone", 6)
    await record(http, tenant_a, "kept", 2)
    assert (await http.post("/api/metrics", headers=admin_headers)).status_code == 200
    windows = "/api/metrics/windows?from=2025-03-01T00:00:00Z&till=2025-03-06T00:00:00Z"
    before = (await http.get(windows, headers=admin_headers)).json()["windows"]

    answer = await http.delete("/api/users/gone", headers=tenant_a.headers)

    assert answer.status_code == 200, answer.text
    receipt = answer.json()
    assert receipt["user_id"] == "gone"
    assert (receipt["events_deleted"], receipt["metric_rows_deleted"]) == (6, 5)
    assert receipt["windows_affected"] == 5
    assert receipt["suppressed"] is False
    listed = await http.get("/api/events?user_id=gone", headers=tenant_a.headers)
    assert listed.json()["events"] == []
    kept = await http.get("/api/events?user_id=kept", headers=tenant_a.headers)
    assert len(kept.json()["events"]) == 2
    metrics = await http.get(
        "/api/metrics?user_id=gone&from=2025-03-01T00:00:00Z&till=2025-03-06T00:00:00Z",
        headers=tenant_a.headers,
    )
    assert metrics.json()["metrics"] == []
    after = (await http.get(windows, headers=admin_headers)).json()["windows"]
    totals = {w["start"]: (w["users"], w["events"]) for w in before}
    for window in after:
        users, events = totals[window["start"]]
        gone = 2 if window["start"].startswith("2025-03-01") else 1
        assert (window["users"], window["events"]) == (users - 1, events - gone), window
    again = await http.delete("/api/users/gone", headers=tenant_a.headers)
    assert again.status_code == 200
    assert (again.json()["events_deleted"], again.json()["metric_rows_deleted"]) == (0, 0)
    assert again.json()["erasure_id"] != receipt["erasure_id"]


async def test_a_suppressed_users_later_events_are_refused_per_item_until_lifted(
    http: Http, tenant_a: Tenant
) -> None:
    await record(http, tenant_a, "u-9", 3)

    erased = await http.delete("/api/users/u-9?suppress=true", headers=tenant_a.headers)
    assert erased.status_code == 200
    assert erased.json()["suppressed"] is True

    one = await http.post("/api/event", headers=tenant_a.headers, json=event(user_id="u-9"))
    assert_problem(one, 403, "user_suppressed")
    batch = await http.post(
        "/api/events",
        headers=tenant_a.headers,
        json={"events": [event(user_id="u-8"), event(user_id="u-9"), event(user_id="u 9")]},
    )
    body = batch.json()
    assert (body["stored"], body["rejected"]) == (2, 1)
    assert body["results"][1]["status"] == "rejected"
    assert body["results"][1]["index"] == 1
    assert body["results"][1]["error"]["code"] == "user_suppressed"
    imported = await http.post(
        "/api/import", headers=tenant_a.headers, json={"events": [event(user_id="u-9")]}
    )
    assert imported.json()["results"][0]["error"]["code"] == "user_suppressed"
    listed = await http.get("/api/events?user_id=u-9", headers=tenant_a.headers)
    assert listed.json()["events"] == []

    lifted = await http.delete("/api/users/u-9/suppression", headers=tenant_a.headers)
    assert lifted.status_code == 204
    assert_problem(
        await http.delete("/api/users/u-9/suppression", headers=tenant_a.headers),
        404,
        "not_suppressed",
    )
    again = await http.post("/api/event", headers=tenant_a.headers, json=event(user_id="u-9"))
    assert again.status_code == 201


async def test_an_integer_user_id_is_the_same_user_as_its_decimal_string(
    http: Http, tenant_a: Tenant
) -> None:
    await http.delete("/api/users/321?suppress=true", headers=tenant_a.headers)

    answer = await http.post("/api/event", headers=tenant_a.headers, json=event(user_id=321))

    assert_problem(answer, 403, "user_suppressed")


async def test_a_suppression_is_per_client(http: Http, tenant_a: Tenant, tenant_b: Tenant) -> None:
    await http.delete("/api/users/shared?suppress=true", headers=tenant_a.headers)

    theirs = await http.post("/api/event", headers=tenant_b.headers, json=event(user_id="shared"))

    assert theirs.status_code == 201


async def test_export_streams_every_event_then_every_metric_row_as_ndjson(
    http: Http, tenant_a: Tenant, admin_headers: dict[str, str]
) -> None:
    await record(http, tenant_a, "me", 7)
    await record(http, tenant_a, "other", 2)
    await http.post("/api/metrics", headers=admin_headers)

    answer = await http.get("/api/users/me/export", headers=tenant_a.headers)

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    found = lines(answer.text)
    assert [line["type"] for line in found] == ["event"] * 7 + ["metric"] * 5
    assert {line["user_id"] for line in found} == {"me"}
    times = [line["occurred_at"] for line in found[:7]]
    assert times == sorted(times)
    assert found[7]["window_hours"] == 4
    empty = await http.get("/api/users/nobody/export", headers=tenant_a.headers)
    assert (empty.status_code, empty.text) == (200, "")


async def test_export_pages_through_more_rows_than_a_page(handlers: Handlers) -> None:
    operator = Principal.operator()
    registered = await handlers.register_client(RegisterClient(actor=operator, name="big"))
    client_id = registered.client.id
    for _ in range(3):
        batch = [NewEvent(user_id="big", action="view", occurred_at=DAY.format(1))] * 500
        await handlers.import_events(RecordEvents(client_id=client_id, events=batch))
    small = ExportUserHandler(handlers.export_user._data, page=7)
    query = ExportUser(actor=operator, user_id="big", client_id=client_id)

    chunks = [chunk async for chunk in await small(query)]

    assert len(chunks) > 200
    ids = [msgspec.json.decode(line)["id"] for chunk in chunks for line in chunk.splitlines()]
    assert len(ids) == len(set(ids)) == 1500


async def test_a_client_can_neither_erase_nor_export_another_clients_user(
    http: Http, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    await record(http, tenant_a, "victim", 2)
    other = f"?client_id={tenant_a.id}"

    assert_problem(
        await http.delete(f"/api/users/victim{other}", headers=tenant_b.headers),
        403,
        "forbidden_client",
    )
    assert_problem(
        await http.get(f"/api/users/victim/export{other}", headers=tenant_b.headers),
        403,
        "forbidden_client",
    )
    assert_problem(
        await http.delete(f"/api/users/victim/suppression{other}", headers=tenant_b.headers),
        403,
        "forbidden_client",
    )
    own = await http.delete("/api/users/victim", headers=tenant_b.headers)
    assert own.json()["events_deleted"] == 0  # tenant b's own user of that name: none
    listed = await http.get("/api/events?user_id=victim", headers=tenant_a.headers)
    assert len(listed.json()["events"]) == 2


async def test_an_admin_erases_and_exports_any_clients_user_and_reads_the_log(
    http: Http, tenant_a: Tenant, admin_headers: dict[str, str]
) -> None:
    await record(http, tenant_a, "someone", 3)
    other = f"?client_id={tenant_a.id}"

    exported = await http.get(f"/api/users/someone/export{other}", headers=admin_headers)
    assert len(lines(exported.text)) == 3
    erased = await http.delete(f"/api/users/someone{other}&suppress=true", headers=admin_headers)
    assert erased.json()["events_deleted"] == 3
    assert_problem(
        await http.delete(
            "/api/users/someone?client_id=01a1fc8f-df24-74da-a0f6-729d4a872e26",
            headers=admin_headers,
        ),
        404,
        "client_not_found",
    )

    log = await http.get(f"/api/erasures?client_id={tenant_a.id}", headers=admin_headers)
    (entry,) = log.json()["erasures"]
    assert entry["client_id"] == tenant_a.id
    assert (entry["events_deleted"], entry["suppressed"]) == (3, True)
    assert len(entry["user_hash"]) == 64
    assert "someone" not in log.text
    assert_problem(await http.get("/api/erasures", headers=tenant_a.headers), 403, "admin_required")


async def test_the_erasure_log_is_paged_newest_first(
    http: Http, tenant_a: Tenant, admin_headers: dict[str, str]
) -> None:
    for n in range(5):
        await http.delete(f"/api/users/u{n}", headers=tenant_a.headers)

    first = (await http.get("/api/erasures?limit=3", headers=admin_headers)).json()
    rest = await http.get(
        f"/api/erasures?limit=3&cursor={first['next_cursor']}", headers=admin_headers
    )

    found = first["erasures"] + rest.json()["erasures"]
    assert len(found) == 5
    assert rest.json()["next_cursor"] is None
    times = [entry["erased_at"] for entry in found]
    assert times == sorted(times, reverse=True)


async def test_a_user_id_holding_an_encoded_slash_never_reaches_another_route(
    http: Http, tenant_a: Tenant
) -> None:
    await http.delete("/api/users/x?suppress=true", headers=tenant_a.headers)

    answer = await http.delete("/api/users/x%2Fsuppression", headers=tenant_a.headers)

    assert answer.status_code == 404
    still = await http.post("/api/event", headers=tenant_a.headers, json=event(user_id="x"))
    assert_problem(still, 403, "user_suppressed")


async def test_a_bad_user_id_is_refused(http: Http, tenant_a: Tenant) -> None:
    assert_problem(
        await http.delete("/api/users/" + "x" * 129, headers=tenant_a.headers),
        400,
        "invalid_user_id",
    )


async def test_register_helper_is_used(http: Http, admin_headers: dict[str, str]) -> None:
    tenant = await register(http, admin_headers)
    answer = await http.delete("/api/users/anyone", headers=tenant.headers)
    assert answer.status_code == 200
