"""POST /api/events: every item answered by its index; the valid ones stored exactly once."""

import uuid
from typing import Any

from tests.integration.http_helpers import Http, Tenant, assert_problem, event


async def stored_ids(http: Http, tenant: Tenant) -> list[str]:
    answer = await http.get("/api/events", headers=tenant.headers, params={"limit": "1000"})
    assert answer.status_code == 200, answer.text
    return sorted(e["id"] for e in answer.json()["events"])


async def test_a_valid_batch_is_stored_item_by_item(http: Http, tenant_a: Tenant) -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]
    body = {"events": [event(id=event_id, user_id=n) for n, event_id in enumerate(ids)]}

    answer = await http.post("/api/events", headers=tenant_a.headers, json=body)

    assert answer.status_code == 200
    assert answer.json() == {
        "stored": 3,
        "duplicates": 0,
        "rejected": 0,
        "results": [{"index": n, "id": ids[n], "status": "stored"} for n in range(3)],
    }
    assert await stored_ids(http, tenant_a) == sorted(ids)


async def test_an_undecodable_item_is_rejected_by_index_and_its_neighbours_are_stored(
    http: Http, tenant_a: Tenant
) -> None:
    items: list[Any] = [event(), {"user_id": ["u"], "action": "a"}, "not an object", event()]

    answer = await http.post("/api/events", headers=tenant_a.headers, json={"events": items})

    assert answer.status_code == 200
    body = answer.json()
    assert (body["stored"], body["duplicates"], body["rejected"]) == (2, 0, 2)
    assert [r["index"] for r in body["results"]] == [0, 1, 2, 3]
    assert [r["status"] for r in body["results"]] == ["stored", "rejected", "rejected", "stored"]
    assert body["results"][1]["error"]["code"] == "invalid_event"
    assert body["results"][1]["error"]["field"] == "user_id"
    assert body["results"][2]["error"]["code"] == "invalid_event"
    stored = [body["results"][0]["id"], body["results"][3]["id"]]
    assert await stored_ids(http, tenant_a) == sorted(stored)


async def test_an_item_breaking_a_rule_is_rejected_with_the_rules_code(
    http: Http, tenant_a: Tenant
) -> None:
    items = [event(action="bad action"), event(occurred_at="2025-01-01T00:00:00"), event()]

    answer = await http.post("/api/events", headers=tenant_a.headers, json={"events": items})

    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "stored"]
    assert results[0]["error"]["code"] == "invalid_action"
    assert results[0]["error"]["field"] == "action"
    assert results[1]["error"]["code"] == "invalid_occurred_at"
    assert await stored_ids(http, tenant_a) == [results[2]["id"]]


async def test_the_same_batch_posted_twice_is_all_duplicates_the_second_time(
    http: Http, tenant_a: Tenant
) -> None:
    ids = [str(uuid.uuid4()) for _ in range(4)]
    body = {"events": [event(id=event_id) for event_id in ids]}

    first = await http.post("/api/events", headers=tenant_a.headers, json=body)
    again = await http.post("/api/events", headers=tenant_a.headers, json=body)

    assert first.json()["stored"] == 4
    assert (again.json()["stored"], again.json()["duplicates"]) == (0, 4)
    assert [r["status"] for r in again.json()["results"]] == ["duplicate"] * 4
    assert [r["id"] for r in again.json()["results"]] == ids
    assert await stored_ids(http, tenant_a) == sorted(ids)


async def test_an_id_repeated_within_one_batch_is_stored_once(http: Http, tenant_a: Tenant) -> None:
    event_id = str(uuid.uuid4())
    body = {"events": [event(id=event_id), event(id=event_id, action="again")]}

    answer = await http.post("/api/events", headers=tenant_a.headers, json=body)

    assert [r["status"] for r in answer.json()["results"]] == ["stored", "duplicate"]
    assert await stored_ids(http, tenant_a) == [event_id]


async def test_an_empty_batch_is_a_400(http: Http, tenant_a: Tenant) -> None:
    answer = await http.post("/api/events", headers=tenant_a.headers, json={"events": []})

    body = assert_problem(answer, 400, "invalid_body")
    assert body["errors"][0]["field"] == "events"


async def test_a_batch_that_is_not_an_object_with_events_is_a_400(
    http: Http, tenant_a: Tenant
) -> None:
    answer = await http.post("/api/events", headers=tenant_a.headers, json=[event()])

    assert_problem(answer, 400, "invalid_body")
    assert await stored_ids(http, tenant_a) == []


async def test_a_batch_of_1001_events_is_a_413_and_stores_nothing(
    http: Http, tenant_a: Tenant
) -> None:
    body = {"events": [event(user_id=n) for n in range(1001)]}

    answer = await http.post("/api/events", headers=tenant_a.headers, json=body)

    assert_problem(answer, 413, "payload_too_large")
    assert await stored_ids(http, tenant_a) == []


async def test_a_batch_of_1000_events_is_accepted(http: Http, tenant_a: Tenant) -> None:
    body = {"events": [event(user_id=n) for n in range(1000)]}

    answer = await http.post("/api/events", headers=tenant_a.headers, json=body)

    assert answer.status_code == 200
    assert answer.json()["stored"] == 1000


async def test_a_batch_over_1_mib_is_a_413_and_stores_nothing(http: Http, tenant_a: Tenant) -> None:
    blob = "x" * (12 * 1024)
    body = {"events": [event(metadata={"blob": blob}) for _ in range(100)]}

    answer = await http.post("/api/events", headers=tenant_a.headers, json=body)

    assert_problem(answer, 413, "payload_too_large")
    assert await stored_ids(http, tenant_a) == []


async def test_a_batch_sent_as_text_plain_is_a_415(http: Http, tenant_a: Tenant) -> None:
    headers = tenant_a.headers | {"Content-Type": "text/plain"}

    answer = await http.post("/api/events", headers=headers, content=b'{"events": [{}]}')

    assert_problem(answer, 415, "unsupported_media_type")
