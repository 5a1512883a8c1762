"""POST /api/event: one event stored once, or a clear 4xx that changes nothing."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.http_helpers import Http, Tenant, assert_problem, event


async def listed(http: Http, tenant: Tenant) -> list[dict[str, Any]]:
    answer = await http.get("/api/events", headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    events: list[dict[str, Any]] = answer.json()["events"]
    return events


async def test_an_event_is_stored_and_listed_back_with_every_field(
    http: Http, tenant_a: Tenant
) -> None:
    body = event(user_id=321, occurred_at="2025-01-02T03:04:05+02:00", metadata={"a": {"b": [1]}})

    answer = await http.post("/api/event", headers=tenant_a.headers, json=body)

    assert answer.status_code == 201
    assert answer.json()["status"] == "stored"
    (stored,) = await listed(http, tenant_a)
    assert stored["id"] == answer.json()["id"]
    assert stored["user_id"] == "321"
    assert stored["action"] == "page.view"
    assert datetime.fromisoformat(stored["occurred_at"]) == datetime(
        2025, 1, 2, 1, 4, 5, tzinfo=UTC
    )
    assert datetime.fromisoformat(stored["received_at"]).tzinfo is not None
    assert stored["metadata"] == {"a": {"b": [1]}}


async def test_an_event_without_occurred_at_happened_when_it_was_received(
    http: Http, tenant_a: Tenant
) -> None:
    await http.post("/api/event", headers=tenant_a.headers, json=event())

    (stored,) = await listed(http, tenant_a)
    assert stored["occurred_at"] == stored["received_at"]
    assert stored["metadata"] == {}


async def test_the_same_id_sent_again_is_a_duplicate_and_stored_once(
    http: Http, tenant_a: Tenant
) -> None:
    event_id = str(uuid.uuid4())

    first = await http.post("/api/event", headers=tenant_a.headers, json=event(id=event_id))
    again = await http.post(
        "/api/event", headers=tenant_a.headers, json=event(id=event_id, action="other")
    )

    assert (first.status_code, first.json()) == (201, {"id": event_id, "status": "stored"})
    assert (again.status_code, again.json()) == (200, {"id": event_id, "status": "duplicate"})
    assert [(e["id"], e["action"]) for e in await listed(http, tenant_a)] == [
        (event_id, "page.view")
    ]


def _in_future() -> str:
    return (datetime.now(UTC) + timedelta(hours=1)).isoformat()


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"user_id": ""}, "invalid_user_id", "user_id"),
        ({"user_id": "x" * 129}, "invalid_user_id", "user_id"),
        ({"action": "has space"}, "invalid_action", "action"),
        ({"action": "a" * 65}, "invalid_action", "action"),
        ({"occurred_at": "2025-01-01T00:00:00"}, "invalid_occurred_at", "occurred_at"),
        ({"metadata": {"blob": "x" * (16 * 1024)}}, "metadata_too_large", "metadata"),
        ({"metadata": {"nul": "a\u0000b"}}, "invalid_metadata", "metadata"),
    ],
)
async def test_a_broken_rule_is_a_400_with_its_code_and_stores_nothing(
    http: Http, tenant_a: Tenant, fields: dict[str, Any], code: str, field: str
) -> None:
    answer = await http.post("/api/event", headers=tenant_a.headers, json=event(**fields))

    body = assert_problem(answer, 400, code)
    assert [e["field"] for e in body["errors"]] == [field]
    assert body["errors"][0]["message"]
    assert await listed(http, tenant_a) == []


async def test_an_event_more_than_five_minutes_ahead_is_refused(
    http: Http, tenant_a: Tenant
) -> None:
    answer = await http.post(
        "/api/event", headers=tenant_a.headers, json=event(occurred_at=_in_future())
    )

    body = assert_problem(answer, 400, "occurred_at_in_future")
    assert body["errors"][0]["field"] == "occurred_at"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user_id": "u", "action": 5}, "action"),
        ({"user_id": ["u"], "action": "a"}, "user_id"),
        ({"user_id": "u", "action": "a", "metadata": [1]}, "metadata"),
        ({"user_id": "u", "action": "a", "id": "not-a-uuid"}, "id"),
        ({"action": "a"}, "body"),
        ({"user_id": "u", "action": "a", "client_id": str(uuid.uuid4())}, "body"),
        ([{"user_id": "u", "action": "a"}], "body"),
    ],
)
async def test_a_body_of_the_wrong_shape_is_invalid_body_naming_the_field(
    http: Http, tenant_a: Tenant, body: object, field: str
) -> None:
    answer = await http.post("/api/event", headers=tenant_a.headers, json=body)

    problem = assert_problem(answer, 400, "invalid_body")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert await listed(http, tenant_a) == []


async def test_malformed_json_is_a_400(http: Http, tenant_a: Tenant) -> None:
    headers = tenant_a.headers | {"Content-Type": "application/json"}

    answer = await http.post("/api/event", headers=headers, content=b'{"user_id": "u",')

    assert_problem(answer, 400, "malformed_json")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_a_body_that_is_not_declared_json_is_a_415(
    http: Http, tenant_a: Tenant, content_type: str | None
) -> None:
    headers = tenant_a.headers | ({} if content_type is None else {"Content-Type": content_type})

    answer = await http.post(
        "/api/event", headers=headers, content=b'{"user_id": "u", "action": "a"}'
    )

    assert_problem(answer, 415, "unsupported_media_type")
    assert await listed(http, tenant_a) == []


async def test_a_json_content_type_with_charset_is_accepted(http: Http, tenant_a: Tenant) -> None:
    headers = tenant_a.headers | {"Content-Type": "application/json; charset=utf-8"}

    answer = await http.post("/api/event", headers=headers, content=b'{"user_id":"u","action":"a"}')

    assert answer.status_code == 201


async def test_a_body_over_64_kib_is_a_413(http: Http, tenant_a: Tenant) -> None:
    body = event(metadata={"blob": "x" * (64 * 1024)})

    answer = await http.post("/api/event", headers=tenant_a.headers, json=body)

    assert_problem(answer, 413, "payload_too_large")
    assert await listed(http, tenant_a) == []
