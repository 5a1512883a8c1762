"""Inputs at the edges of what storage and parsers can hold: a clear 400, never a 500."""

import pytest

from tests.integration.http_helpers import Http, Tenant, assert_problem


def nested(depth: int) -> dict[str, object]:
    value: dict[str, object] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


async def test_metadata_nested_deeper_than_32_levels_is_refused(
    http: Http, tenant_a: Tenant
) -> None:
    ok = await http.post(
        "/api/event",
        headers=tenant_a.headers,
        json={"user_id": 1, "action": "a", "metadata": nested(32)},
    )
    deep = await http.post(
        "/api/event",
        headers=tenant_a.headers,
        json={"user_id": 1, "action": "a", "metadata": nested(33)},
    )

    assert ok.status_code == 201
    assert_problem(deep, 400, "invalid_metadata")


async def test_a_body_too_deep_to_parse_is_a_400(http: Http, tenant_a: Tenant) -> None:
    body = b'{"user_id": 1, "action": "a", "metadata": ' + b'{"a": ' * 3000 + b"{}" + b"}" * 3001

    answer = await http.post(
        "/api/event", headers=tenant_a.headers | {"Content-Type": "application/json"}, content=body
    )

    assert_problem(answer, 400, "invalid_body")


async def test_a_batch_with_an_item_too_deep_to_parse_is_a_400_that_stores_nothing(
    http: Http, tenant_a: Tenant
) -> None:
    """Finding where such an item ends is parsing it: the batch cannot be split, so it is
    refused whole, with nothing stored, and the sender can resend the rest."""
    deep = b'{"user_id": 1, "action": "a", "metadata": ' + b'{"a": ' * 3000 + b"{}" + b"}" * 3001
    body = b'{"events": [' + deep + b', {"user_id": 2, "action": "b"}]}'

    answer = await http.post(
        "/api/events", headers=tenant_a.headers | {"Content-Type": "application/json"}, content=body
    )

    assert_problem(answer, 400, "invalid_body")
    listed = await http.get("/api/events", headers=tenant_a.headers)
    assert listed.json()["events"] == []


async def test_an_occurred_at_before_year_one_in_utc_is_refused(
    http: Http, tenant_a: Tenant
) -> None:
    answer = await http.post(
        "/api/events",
        headers=tenant_a.headers,
        json={
            "events": [
                {"user_id": 1, "action": "a", "occurred_at": "0001-01-01T00:30:00+01:00"},
                {"user_id": 1, "action": "b"},
            ]
        },
    )

    assert [r["status"] for r in answer.json()["results"]] == ["rejected", "stored"]
    assert answer.json()["results"][0]["error"]["code"] == "invalid_occurred_at"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/events", {"user_id": "a\x00b"}),
        ("/api/events", {"action": "a\x00"}),
        ("/api/events", {"from": "0001-01-01T00:30:00+01:00"}),
        ("/api/events", {"till": "9999-12-31T23:59:59-23:00"}),
        ("/api/metrics", {"user_id": "\x00"}),
        ("/api/metrics", {"from": "0001-01-01T00:30:00+01:00"}),
    ],
)
async def test_filters_storage_cannot_hold_are_a_400(
    http: Http, tenant_a: Tenant, path: str, params: dict[str, str]
) -> None:
    answer = await http.get(path, headers=tenant_a.headers, params=params)

    assert_problem(answer, 400, "invalid_query")


@pytest.mark.parametrize(
    "params",
    [
        {"till": "0001-01-01T03:30:00+05:00"},
        {"from": "9999-12-31T20:00:00Z", "till": "9999-12-31T23:59:59Z"},
    ],
)
async def test_the_run_log_at_the_calendar_edges_is_a_400(
    http: Http, admin_headers: dict[str, str], params: dict[str, str]
) -> None:
    answer = await http.get("/api/metrics/windows", headers=admin_headers, params=params)

    assert_problem(answer, 400, "invalid_query")
