"""Authentication: an API key or a bearer token, for an active client, or a 401."""

import uuid

import pytest

from tests.integration.http_helpers import Http, Tenant, assert_problem, bearer
from tracking.settings import Settings


async def test_an_api_key_buys_a_bearer_token_that_works(
    http: Http, settings: Settings, tenant_a: Tenant
) -> None:
    answer = await http.post("/api/auth/token", headers=tenant_a.headers)

    assert answer.status_code == 200
    assert answer.json()["token_type"] == "Bearer"
    assert answer.json()["expires_in"] == settings.jwt_ttl_seconds
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    assert (await http.get("/api/clients/me", headers=headers)).json()["id"] == tenant_a.id


async def test_a_token_cannot_buy_another_token(http: Http, tenant_a: Tenant) -> None:
    answer = await http.post("/api/auth/token", headers=await bearer(http, tenant_a.api_key))

    assert_problem(answer, 401, "api_key_required")


async def test_no_credential_is_a_401_with_a_bearer_challenge(http: Http) -> None:
    answer = await http.get("/api/events")

    assert_problem(answer, 401, "missing_credentials")
    assert answer.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "Token abc", "abc"]
)
async def test_a_malformed_authorization_header_is_a_401(http: Http, authorization: str) -> None:
    answer = await http.get("/api/events", headers={"Authorization": authorization})

    assert_problem(answer, 401, "invalid_authorization")
    assert "www-authenticate" in answer.headers


async def test_an_unknown_api_key_is_a_401(http: Http) -> None:
    answer = await http.get("/api/events", headers={"X-API-Key": "trk_" + "x" * 43})

    assert_problem(answer, 401, "invalid_api_key")
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]


async def test_both_credentials_at_once_is_a_401(http: Http, tenant_a: Tenant) -> None:
    headers = tenant_a.headers | await bearer(http, tenant_a.api_key)

    answer = await http.get("/api/events", headers=headers)

    assert_problem(answer, 401, "ambiguous_credentials")


@pytest.mark.parametrize("header", ["X-API-Key", "Authorization"])
async def test_a_credential_header_sent_twice_is_a_401_even_when_both_agree(
    http: Http, tenant_a: Tenant, header: str
) -> None:
    """A proxy may read the last of two headers where we would read the first: refused, so
    nobody has to guess who the caller is."""
    value = (
        tenant_a.api_key
        if header == "X-API-Key"
        else (await bearer(http, tenant_a.api_key))["Authorization"]
    )

    answer = await http.get("/api/events", headers=[(header, value), (header, value)])

    assert_problem(answer, 401, "ambiguous_credentials")
    assert header in answer.json()["detail"]


async def test_whitespace_around_an_api_key_is_not_part_of_it(http: Http, tenant_a: Tenant) -> None:
    answer = await http.get("/api/events", headers={"X-API-Key": f"  {tenant_a.api_key}\t"})

    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/event"),
        ("POST", "/api/events"),
        ("GET", "/api/events"),
        ("POST", "/api/auth/token"),
        ("POST", "/api/clients"),
        ("GET", "/api/clients"),
        ("GET", "/api/clients/me"),
        ("GET", f"/api/clients/{uuid.UUID(int=1)}"),
        ("POST", f"/api/clients/{uuid.UUID(int=1)}/rotate-key"),
        ("DELETE", f"/api/clients/{uuid.UUID(int=1)}"),
    ],
)
async def test_every_api_route_needs_a_credential(http: Http, method: str, path: str) -> None:
    answer = await http.request(method, path, json={"user_id": "u", "action": "a"})

    assert_problem(answer, 401, "missing_credentials")
