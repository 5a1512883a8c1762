"""Bytes a JSON parser cannot read as text: a clear 400 that names the problem, nothing stored."""

import pytest

from tests.integration.http_helpers import Http, Tenant, assert_problem

JSON = {"Content-Type": "application/json"}


async def nothing_stored(http: Http, tenant: Tenant) -> None:
    listed = await http.get("/api/events", headers=tenant.headers)
    assert listed.json()["events"] == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"user_id": "a\xffb", "action": "a"}',
        b'{"user_id": "u", "action": "a", "metadata": {"k\xc3": 1}}',
        b'{"user_id": "u", "action": "a", "metadata": {"k": "\xed\xa0\x80"}}',
        b'{"user_id": "u", "action": "a\x80"}',
    ],
    ids=["user-id", "metadata-key", "metadata-value-surrogate", "action"],
)
async def test_bytes_that_are_not_utf8_are_invalid_encoding(
    http: Http, tenant_a: Tenant, body: bytes
) -> None:
    answer = await http.post("/api/event", headers=tenant_a.headers | JSON, content=body)

    problem = assert_problem(answer, 400, "invalid_encoding")
    assert "UTF-8" in problem["detail"]
    await nothing_stored(http, tenant_a)


async def test_a_batch_item_that_is_not_utf8_is_rejected_by_its_index(
    http: Http, tenant_a: Tenant
) -> None:
    body = b'{"events": [{"user_id": "u", "action": "a"}, {"user_id": "\xff", "action": "b"}]}'

    answer = await http.post("/api/events", headers=tenant_a.headers | JSON, content=body)

    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["stored", "rejected"]
    assert (results[1]["index"], results[1]["error"]["code"]) == (1, "invalid_encoding")


@pytest.mark.parametrize(
    ("charset", "refused"),
    [
        ("latin-1", True),
        ("ISO-8859-1", True),
        ("utf-16", True),
        ('"windows-1252"', True),
        ("utf-8", False),
        ("UTF-8", False),
        ('"utf-8"', False),
        ("utf8", False),
    ],
)
async def test_a_body_declared_in_another_charset_than_utf8_is_refused(
    http: Http, tenant_a: Tenant, charset: str, *, refused: bool
) -> None:
    answer = await http.post(
        "/api/event",
        headers=tenant_a.headers | {"Content-Type": f"application/json; charset={charset}"},
        content=b'{"user_id": "u", "action": "a"}',
    )

    if not refused:
        assert answer.status_code == 201, answer.text
        return
    problem = assert_problem(answer, 400, "invalid_encoding")
    assert "UTF-8" in problem["detail"]
    await nothing_stored(http, tenant_a)


@pytest.mark.parametrize("path", ["/api/event", "/api/events", "/api/import", "/api/clients"])
async def test_an_empty_body_is_malformed_json_that_says_so(
    http: Http, admin_headers: dict[str, str], path: str
) -> None:
    answer = await http.post(path, headers=admin_headers | JSON, content=b"")

    problem = assert_problem(answer, 400, "malformed_json")
    assert problem["detail"] == "the body is empty: send a JSON object"
