"""Rotating a key and deactivating a client: the old credentials stop working at once."""

from tests.integration.http_helpers import Http, Tenant, assert_problem, bearer, register


async def test_a_client_rotates_its_own_key_and_the_old_one_stops_at_once(
    http: Http, tenant_a: Tenant
) -> None:
    answer = await http.post(f"/api/clients/{tenant_a.id}/rotate-key", headers=tenant_a.headers)

    assert answer.status_code == 200
    new_key = answer.json()["api_key"]
    assert new_key != tenant_a.api_key
    assert new_key.startswith(answer.json()["api_key_prefix"])
    old = await http.get("/api/clients/me", headers=tenant_a.headers)
    assert_problem(old, 401, "invalid_api_key")
    assert (await http.get("/api/clients/me", headers={"X-API-Key": new_key})).status_code == 200


async def test_an_admin_rotates_a_clients_key(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant
) -> None:
    answer = await http.post(f"/api/clients/{tenant_a.id}/rotate-key", headers=admin_headers)

    assert answer.status_code == 200
    assert answer.json()["id"] == tenant_a.id
    assert (await http.get("/api/clients/me", headers=tenant_a.headers)).status_code == 401
    new = {"X-API-Key": answer.json()["api_key"]}
    assert (await http.get("/api/clients/me", headers=new)).json()["id"] == tenant_a.id


async def test_a_deactivated_clients_key_and_earlier_token_both_answer_401(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant
) -> None:
    token = await bearer(http, tenant_a.api_key)

    answer = await http.delete(f"/api/clients/{tenant_a.id}", headers=admin_headers)

    assert answer.status_code == 204
    assert answer.content == b""
    assert_problem(await http.get("/api/events", headers=tenant_a.headers), 401, "invalid_api_key")
    assert_problem(await http.get("/api/events", headers=token), 401, "invalid_token")
    record = await http.get(f"/api/clients/{tenant_a.id}", headers=admin_headers)
    assert record.json()["active"] is False


async def test_deactivating_twice_is_harmless(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant
) -> None:
    await http.delete(f"/api/clients/{tenant_a.id}", headers=admin_headers)

    again = await http.delete(f"/api/clients/{tenant_a.id}", headers=admin_headers)

    assert again.status_code == 204


async def test_a_client_may_not_deactivate_even_itself(http: Http, tenant_a: Tenant) -> None:
    answer = await http.delete(f"/api/clients/{tenant_a.id}", headers=tenant_a.headers)

    assert_problem(answer, 403, "admin_required")
    assert (await http.get("/api/clients/me", headers=tenant_a.headers)).status_code == 200


async def test_the_last_active_admin_cannot_be_deactivated(
    http: Http, admin_headers: dict[str, str]
) -> None:
    admin_id = (await http.get("/api/clients/me", headers=admin_headers)).json()["id"]

    answer = await http.delete(f"/api/clients/{admin_id}", headers=admin_headers)

    assert_problem(answer, 409, "last_admin")
    assert (await http.get("/api/clients/me", headers=admin_headers)).status_code == 200


async def test_an_admin_may_be_deactivated_while_another_remains(
    http: Http, admin_headers: dict[str, str]
) -> None:
    second = await register(http, admin_headers, role="admin")
    admin_id = (await http.get("/api/clients/me", headers=admin_headers)).json()["id"]

    answer = await http.delete(f"/api/clients/{admin_id}", headers=second.headers)

    assert answer.status_code == 204
    assert (await http.get("/api/clients", headers=second.headers)).status_code == 200
    last = await http.delete(f"/api/clients/{second.id}", headers=second.headers)
    assert_problem(last, 409, "last_admin")
