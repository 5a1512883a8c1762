"""PATCH /api/clients/{id}: an admin changes a client's limits, role or activity, and the
client's very next request is served under them."""

import uuid
from typing import Any

from tests.integration.http_helpers import Http, Tenant, assert_problem
from tracking.application.handlers import Handlers
from tracking.application.queries.authenticate import Authenticate


async def patched(http: Http, client_id: str, headers: dict[str, str], **body: Any) -> Any:
    answer = await http.patch(f"/api/clients/{client_id}", headers=headers, json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def admin_id(http: Http, admin_headers: dict[str, str]) -> str:
    me = await http.get("/api/clients/me", headers=admin_headers)
    assert me.status_code == 200, me.text
    identity: str = me.json()["id"]
    return identity


async def test_a_registered_client_shows_its_events_quota_given_or_default(
    http: Http, admin_headers: dict[str, str]
) -> None:
    named = {"name": f"quota-{uuid.uuid4().hex}", "events_per_minute": 1234}
    given = await http.post("/api/clients", headers=admin_headers, json=named)
    plain = await http.post("/api/clients", headers=admin_headers, json={"name": "plain"})
    zero = {"name": "zero", "events_per_minute": 0}
    refused = await http.post("/api/clients", headers=admin_headers, json=zero)
    null = {"name": "null", "rate_limit_per_minute": None}
    unread = await http.post("/api/clients", headers=admin_headers, json=null)

    assert given.status_code == 201, given.text
    assert given.json()["events_per_minute"] == 1234
    assert (plain.json()["rate_limit_per_minute"], plain.json()["events_per_minute"]) == (
        1000,
        60_000,
    )
    problem = assert_problem(refused, 400, "invalid_events_per_minute")
    assert problem["errors"][0]["field"] == "events_per_minute"
    assert assert_problem(unread, 400, "invalid_body")["errors"][0]["field"] == (
        "rate_limit_per_minute"
    )


async def test_an_admin_changes_limits_and_reads_them_back(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant
) -> None:
    changed = await patched(
        http, tenant_a.id, admin_headers, rate_limit_per_minute=600, events_per_minute=30_000
    )
    read = await http.get(f"/api/clients/{tenant_a.id}", headers=admin_headers)
    listed = await http.get("/api/clients", headers=admin_headers)

    assert (changed["rate_limit_per_minute"], changed["events_per_minute"]) == (600, 30_000)
    assert (changed["id"], changed["role"], changed["active"]) == (tenant_a.id, "client", True)
    assert "api_key" not in changed
    assert read.json() == changed
    assert [c for c in listed.json() if c["id"] == tenant_a.id] == [changed]


async def test_the_clients_next_request_carries_the_new_limits(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant
) -> None:
    """Its principal was just read (and, on PostgreSQL, cached): the change must not wait for
    the cache to expire. The principal is what the next request authenticates as, asked in
    the app's own event loop, where its database connections live."""
    assert (await http.get("/api/clients/me", headers=tenant_a.headers)).status_code == 200

    await patched(http, tenant_a.id, admin_headers, rate_limit_per_minute=7, events_per_minute=70)
    handlers: Handlers = http.app.state.handlers
    principal = http.blocking_portal.call(
        handlers.authenticate, Authenticate(api_key=tenant_a.api_key)
    )

    assert (principal.rate_limit_per_minute, principal.events_per_minute) == (7, 70)


async def test_a_promoted_client_is_an_admin_on_its_next_request(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant
) -> None:
    before = await http.get("/api/clients", headers=tenant_a.headers)

    promoted = await patched(http, tenant_a.id, admin_headers, role="admin")
    after = await http.get("/api/clients", headers=tenant_a.headers)

    assert_problem(before, 403, "admin_required")
    assert promoted["role"] == "admin"
    assert after.status_code == 200, after.text


async def test_a_client_may_not_change_clients_not_even_itself(
    http: Http, tenant_a: Tenant
) -> None:
    answer = await http.patch(
        f"/api/clients/{tenant_a.id}", headers=tenant_a.headers, json={"role": "admin"}
    )

    assert_problem(answer, 403, "admin_required")
    me = await http.get("/api/clients/me", headers=tenant_a.headers)
    assert me.json()["role"] == "client"


async def test_an_unknown_client_is_a_404(http: Http, admin_headers: dict[str, str]) -> None:
    answer = await http.patch(
        f"/api/clients/{uuid.uuid4()}", headers=admin_headers, json={"active": True}
    )

    assert_problem(answer, 404, "client_not_found")


async def test_the_last_active_admin_can_be_neither_demoted_nor_deactivated(
    http: Http, admin_headers: dict[str, str]
) -> None:
    admin = await admin_id(http, admin_headers)

    demoted = await http.patch(
        f"/api/clients/{admin}", headers=admin_headers, json={"role": "client"}
    )
    retired = await http.patch(
        f"/api/clients/{admin}", headers=admin_headers, json={"active": False}
    )

    assert_problem(demoted, 409, "last_admin")
    assert_problem(retired, 409, "last_admin")
    me = await http.get("/api/clients/me", headers=admin_headers)
    assert (me.json()["role"], me.json()["active"]) == ("admin", True)


async def test_an_admin_may_step_down_once_another_is_active(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant
) -> None:
    admin = await admin_id(http, admin_headers)
    await patched(http, tenant_a.id, admin_headers, role="admin")

    stepped_down = await patched(http, admin, admin_headers, role="client")
    refused = await http.patch(
        f"/api/clients/{tenant_a.id}", headers=tenant_a.headers, json={"active": False}
    )

    assert stepped_down["role"] == "client"
    assert_problem(refused, 409, "last_admin")


async def test_reactivation_makes_the_old_key_work_again(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant
) -> None:
    await patched(http, tenant_a.id, admin_headers, active=False)
    while_inactive = await http.get("/api/clients/me", headers=tenant_a.headers)

    reactivated = await patched(http, tenant_a.id, admin_headers, active=True)
    after = await http.get("/api/clients/me", headers=tenant_a.headers)

    assert_problem(while_inactive, 401, "invalid_api_key")
    assert reactivated["active"] is True
    assert after.status_code == 200, after.text


async def test_a_client_deactivated_by_delete_is_reactivated_by_patch(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant
) -> None:
    deleted = await http.delete(f"/api/clients/{tenant_a.id}", headers=admin_headers)

    await patched(http, tenant_a.id, admin_headers, active=True)

    assert deleted.status_code == 204
    assert (await http.get("/api/clients/me", headers=tenant_a.headers)).status_code == 200


async def test_a_bad_change_is_a_400_and_changes_nothing(
    http: Http, admin_headers: dict[str, str], tenant_a: Tenant
) -> None:
    url = f"/api/clients/{tenant_a.id}"
    before = (await http.get(url, headers=admin_headers)).json()

    unknown = await http.patch(url, headers=admin_headers, json={"name": "renamed"})
    empty = await http.patch(url, headers=admin_headers, json={})
    null = await http.patch(url, headers=admin_headers, json={"events_per_minute": None})
    role = await http.patch(url, headers=admin_headers, json={"role": "god"})
    limit = await http.patch(
        url, headers=admin_headers, json={"rate_limit_per_minute": 5, "events_per_minute": 0}
    )
    text = await http.patch(url, headers=admin_headers, content=b"{}")

    assert "name" in assert_problem(unknown, 400, "invalid_body")["detail"]
    assert assert_problem(empty, 400, "nothing_to_change")
    assert assert_problem(null, 400, "invalid_body")["errors"][0]["field"] == ("events_per_minute")
    assert assert_problem(role, 400, "invalid_body")["errors"][0]["field"] == "role"
    assert assert_problem(limit, 400, "invalid_events_per_minute")
    assert text.status_code == 415, text.text
    assert (await http.get(url, headers=admin_headers)).json() == before


async def test_a_retention_is_set_shown_cleared_and_checked(
    http: Http, admin_headers: dict[str, str]
) -> None:
    body = {"name": f"kept-{uuid.uuid4().hex}", "retention_days": 30}
    registered = await http.post("/api/clients", headers=admin_headers, json=body)
    plain = await http.post("/api/clients", headers=admin_headers, json={"name": "for-ever"})
    assert registered.status_code == 201, registered.text
    client = registered.json()
    url = f"/api/clients/{client['id']}"
    key = {"X-API-Key": client["api_key"]}

    me = (await http.get("/api/clients/me", headers=key)).json()
    changed = await patched(http, client["id"], admin_headers, retention_days=365)
    listed = (await http.get("/api/clients", headers=admin_headers)).json()
    cleared = await patched(http, client["id"], admin_headers, retention_days=None)
    zero = await http.patch(url, headers=admin_headers, json={"retention_days": 0})
    too_long = await http.patch(url, headers=admin_headers, json={"retention_days": 36_501})
    text = await http.patch(url, headers=admin_headers, json={"retention_days": "30"})
    fraction = await http.patch(url, headers=admin_headers, json={"retention_days": 1.5})
    refused = await http.post(
        "/api/clients", headers=admin_headers, json={"name": "never", "retention_days": -1}
    )

    assert (client["retention_days"], plain.json()["retention_days"]) == (30, None)
    assert me["retention_days"] == 30
    assert changed["retention_days"] == 365
    assert {c["id"]: c["retention_days"] for c in listed}[client["id"]] == 365
    assert cleared["retention_days"] is None
    for answer in (zero, too_long, refused):
        problem = assert_problem(answer, 400, "invalid_retention_days")
        assert problem["errors"] == [
            {
                "field": "retention_days",
                "message": "must be a whole number of days between 1 and 36500, "
                "or null to keep events for ever",
            }
        ]
    for answer in (text, fraction):
        assert assert_problem(answer, 400, "invalid_body")["errors"][0]["field"] == (
            "retention_days"
        )
    assert (await http.get(url, headers=admin_headers)).json()["retention_days"] is None
