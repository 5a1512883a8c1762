"""Client routes: register, list and read clients; a key is shown once, never listed."""

import uuid
from typing import Any

from tests.integration.http_helpers import Http, Tenant, assert_problem, register


def no_secrets(record: dict[str, Any]) -> None:
    assert "api_key" not in record
    assert "api_key_hash" not in record
    assert record["api_key_prefix"].startswith("trk_")


async def test_an_admin_registers_a_client_whose_key_is_shown_once_and_works(
    http: Http, admin_headers: dict[str, str]
) -> None:
    body = {"name": "shop-frontend", "rate_limit_per_minute": 50}

    answer = await http.post("/api/clients", headers=admin_headers, json=body)

    assert answer.status_code == 201
    created = answer.json()
    assert (created["name"], created["role"], created["active"]) == (
        "shop-frontend",
        "client",
        True,
    )
    assert created["rate_limit_per_minute"] == 50
    assert created["api_key"].startswith(created["api_key_prefix"])
    me = await http.get("/api/clients/me", headers={"X-API-Key": created["api_key"]})
    assert me.status_code == 200
    assert me.json()["id"] == created["id"]
    no_secrets(me.json())


async def test_a_name_already_taken_is_a_409(http: Http, admin_headers: dict[str, str]) -> None:
    await register(http, admin_headers, name="taken")

    answer = await http.post("/api/clients", headers=admin_headers, json={"name": "taken"})

    assert_problem(answer, 409, "client_name_taken")


async def test_a_client_may_not_register_clients(http: Http, tenant_a: Tenant) -> None:
    answer = await http.post("/api/clients", headers=tenant_a.headers, json={"name": "mine"})

    assert_problem(answer, 403, "admin_required")


async def test_a_bad_client_body_is_a_400(http: Http, admin_headers: dict[str, str]) -> None:
    blank = await http.post("/api/clients", headers=admin_headers, json={"name": "  "})
    role = await http.post("/api/clients", headers=admin_headers, json={"name": "x", "role": "god"})
    rate = {"name": "y", "rate_limit_per_minute": 0}
    limit = await http.post("/api/clients", headers=admin_headers, json=rate)

    assert assert_problem(blank, 400, "invalid_name")["errors"][0]["field"] == "name"
    assert assert_problem(role, 400, "invalid_body")["errors"][0]["field"] == "role"
    assert assert_problem(limit, 400, "invalid_rate_limit")["errors"][0]["field"] == (
        "rate_limit_per_minute"
    )


async def test_an_admin_lists_every_client_without_keys(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant, tenant_b: Tenant
) -> None:
    answer = await http.get("/api/clients", headers=admin_headers)

    assert answer.status_code == 200
    listed = {record["id"]: record for record in answer.json()}
    assert {tenant_a.id, tenant_b.id} <= set(listed)
    assert "admin" in {record["role"] for record in listed.values()}
    for record in listed.values():
        no_secrets(record)
    assert tenant_a.api_key not in answer.text


async def test_a_client_may_not_list_clients(http: Http, tenant_a: Tenant) -> None:
    answer = await http.get("/api/clients", headers=tenant_a.headers)

    assert_problem(answer, 403, "admin_required")


async def test_a_client_reads_its_own_record_by_id(http: Http, tenant_a: Tenant) -> None:
    answer = await http.get(f"/api/clients/{tenant_a.id}", headers=tenant_a.headers)

    assert answer.status_code == 200
    assert answer.json()["id"] == tenant_a.id
    no_secrets(answer.json())


async def test_an_unknown_client_id_is_a_404(http: Http, admin_headers: dict[str, str]) -> None:
    unknown = uuid.uuid4()

    read = await http.get(f"/api/clients/{unknown}", headers=admin_headers)
    rotated = await http.post(f"/api/clients/{unknown}/rotate-key", headers=admin_headers)
    deleted = await http.delete(f"/api/clients/{unknown}", headers=admin_headers)

    for answer in (read, rotated, deleted):
        assert_problem(answer, 404, "client_not_found")
