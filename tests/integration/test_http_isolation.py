"""Tenant isolation: nothing client B asks for reads, changes or reveals client A's data."""

import uuid

from tests.integration.http_helpers import Http, Tenant, assert_problem, bearer, event


async def ids_seen(http: Http, headers: dict[str, str], **params: str) -> list[str]:
    answer = await http.get("/api/events", headers=headers, params=params)
    assert answer.status_code == 200, answer.text
    return [e["id"] for e in answer.json()["events"]]


async def test_a_client_lists_only_its_own_events(
    http: Http, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    mine = await http.post("/api/event", headers=tenant_a.headers, json=event(user_id="shared"))
    theirs = await http.post("/api/event", headers=tenant_b.headers, json=event(user_id="shared"))

    assert await ids_seen(http, tenant_a.headers) == [mine.json()["id"]]
    assert await ids_seen(http, tenant_b.headers, user_id="shared") == [theirs.json()["id"]]
    assert await ids_seen(http, await bearer(http, tenant_b.api_key)) == [theirs.json()["id"]]


async def test_a_client_naming_another_client_id_is_forbidden(
    http: Http, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    await http.post("/api/event", headers=tenant_a.headers, json=event())

    answer = await http.get(
        "/api/events", headers=tenant_b.headers, params={"client_id": tenant_a.id}
    )

    assert_problem(answer, 403, "forbidden_client")


async def test_a_client_may_name_its_own_client_id(http: Http, tenant_a: Tenant) -> None:
    posted = await http.post("/api/event", headers=tenant_a.headers, json=event())

    seen = await ids_seen(http, tenant_a.headers, client_id=tenant_a.id)

    assert seen == [posted.json()["id"]]


async def test_an_admin_sees_another_clients_events_only_by_naming_it(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant
) -> None:
    posted = await http.post("/api/event", headers=tenant_a.headers, json=event())

    assert await ids_seen(http, admin_headers, client_id=tenant_a.id) == [posted.json()["id"]]
    assert posted.json()["id"] not in await ids_seen(http, admin_headers)


async def test_another_clients_event_id_is_stored_as_the_senders_own(
    http: Http, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    event_id = str(uuid.uuid4())
    await http.post("/api/event", headers=tenant_a.headers, json=event(id=event_id, action="a"))

    single = await http.post(
        "/api/event", headers=tenant_b.headers, json=event(id=event_id, action="b")
    )

    assert (single.status_code, single.json()["status"]) == (201, "stored")
    a_events = (await http.get("/api/events", headers=tenant_a.headers)).json()["events"]
    b_events = (await http.get("/api/events", headers=tenant_b.headers)).json()["events"]
    assert [(e["id"], e["action"]) for e in a_events] == [(event_id, "a")]
    assert [(e["id"], e["action"]) for e in b_events] == [(event_id, "b")]


async def test_another_clients_event_ids_in_a_batch_are_not_duplicates(
    http: Http, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    body = {"events": [event(id=str(uuid.uuid4())) for _ in range(3)]}
    await http.post("/api/events", headers=tenant_a.headers, json=body)

    answer = await http.post("/api/events", headers=tenant_b.headers, json=body)

    assert (answer.json()["stored"], answer.json()["duplicates"]) == (3, 0)


async def test_another_clients_record_answers_404_like_an_unknown_one(
    http: Http, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    theirs = await http.get(f"/api/clients/{tenant_a.id}", headers=tenant_b.headers)
    unknown = await http.get(f"/api/clients/{uuid.uuid4()}", headers=tenant_b.headers)

    body = assert_problem(theirs, 404, "client_not_found")
    other = assert_problem(unknown, 404, "client_not_found")
    assert {k: v for k, v in body.items() if k not in {"detail", "request_id"}} == {
        k: v for k, v in other.items() if k not in {"detail", "request_id"}
    }
    assert tenant_a.api_key[:12] not in theirs.text


async def test_a_client_cannot_rotate_another_clients_key(
    http: Http, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    answer = await http.post(f"/api/clients/{tenant_a.id}/rotate-key", headers=tenant_b.headers)
    unknown = await http.post(f"/api/clients/{uuid.uuid4()}/rotate-key", headers=tenant_b.headers)

    assert_problem(answer, 404, "client_not_found")
    assert_problem(unknown, 404, "client_not_found")
    assert "api_key" not in answer.json()
    assert (await http.get("/api/clients/me", headers=tenant_a.headers)).status_code == 200


async def test_a_client_cannot_deactivate_another_client(
    http: Http, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    answer = await http.delete(f"/api/clients/{tenant_a.id}", headers=tenant_b.headers)

    assert_problem(answer, 403, "admin_required")
    assert (await http.get("/api/clients/me", headers=tenant_a.headers)).status_code == 200


async def test_a_client_cannot_list_other_clients(
    http: Http, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    answer = await http.get("/api/clients", headers=tenant_b.headers)

    assert_problem(answer, 403, "admin_required")
    assert tenant_a.id not in answer.text


async def test_me_and_the_token_are_the_callers_own(
    http: Http, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    me = await http.get("/api/clients/me", headers=await bearer(http, tenant_b.api_key))

    assert me.json()["id"] == tenant_b.id
    assert me.json()["id"] != tenant_a.id
