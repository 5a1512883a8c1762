"""Errors as problem+json, request ids on every answer, health probes, a 500 that says little."""

from collections.abc import Sequence

import pytest

from tests.integration.http_helpers import PROBLEM, Http, Tenant, assert_problem, event
from tracking.adapters.memory.unit_of_work import InMemoryEventRepository
from tracking.adapters.postgres.events import PostgresEventRepository
from tracking.application.ports import EventKey
from tracking.application.queries.list_events import ListEvents, ListEventsHandler
from tracking.domain.events import Event


async def test_an_unknown_path_is_a_404_problem(http: Http) -> None:
    answer = await http.get("/no/such/path", headers={"X-Request-ID": "trace-404"})

    body = assert_problem(answer, 404, "not_found")
    assert body["request_id"] == "trace-404"


@pytest.mark.parametrize(("method", "path"), [("PUT", "/api/event"), ("DELETE", "/health/live")])
async def test_a_wrong_method_is_a_405_problem_naming_the_allowed_ones(
    http: Http, admin_headers: dict[str, str], method: str, path: str
) -> None:
    answer = await http.request(method, path, headers=admin_headers)

    assert_problem(answer, 405, "method_not_allowed")
    assert "allow" in answer.headers


async def test_a_sane_request_id_is_echoed_on_success_and_on_401(
    http: Http, tenant_a: Tenant
) -> None:
    ok = await http.get("/api/events", headers=tenant_a.headers | {"X-Request-ID": "abc-1.2:3_4"})
    denied = await http.get("/api/events", headers={"X-Request-ID": "abc-401"})

    assert ok.headers["x-request-id"] == "abc-1.2:3_4"
    assert denied.status_code == 401
    assert denied.headers["x-request-id"] == "abc-401"
    assert denied.json()["request_id"] == "abc-401"


@pytest.mark.parametrize("given", ["x" * 300, "has spaces in it", "semi;colon", ""])
async def test_an_insane_request_id_is_replaced(http: Http, given: str) -> None:
    answer = await http.get("/health/live", headers={"X-Request-ID": given})

    replaced = answer.headers["x-request-id"]
    assert replaced
    assert replaced != given
    assert len(replaced) <= 128
    assert " " not in replaced


async def test_each_request_without_an_id_gets_its_own(http: Http) -> None:
    first = await http.get("/health/live")
    second = await http.get("/no/such/path")

    assert first.headers["x-request-id"]
    assert second.headers["x-request-id"]
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_the_problem_body_agrees_with_its_header(http: Http, tenant_a: Tenant) -> None:
    answer = await http.get("/api/events", headers=tenant_a.headers, params={"limit": "0"})

    body = assert_problem(answer, 400, "invalid_request")
    assert body["type"] == "urn:tracking:problem:invalid_request"
    assert body["title"] == "Bad Request"
    assert body["errors"] == [{"field": "limit", "message": body["errors"][0]["message"]}]


async def test_an_unexpected_failure_is_a_500_problem_without_internals(
    http: Http, tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: ListEventsHandler, query: ListEvents) -> None:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(ListEventsHandler, "__call__", broken)

    answer = await http.get("/api/events", headers=tenant_a.headers | {"X-Request-ID": "boom-1"})

    body = assert_problem(answer, 500, "internal_error")
    assert body["request_id"] == "boom-1"
    assert answer.headers["content-type"] == PROBLEM
    for leak in ("Traceback", "RuntimeError", "hunter2", "list_events", ".py"):
        assert leak not in answer.text


async def test_a_write_that_meets_a_bug_mid_transaction_is_a_500_and_stores_nothing(
    http: Http, tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug is not an outage: not a 503 inviting retries of what will fail again (and, on
    Kafka, a partition stalled on it), but a 500 with nothing stored and nothing leaked."""

    async def broken(self: object, events: Sequence[Event]) -> set[EventKey]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(InMemoryEventRepository, "add_new", broken)
    monkeypatch.setattr(PostgresEventRepository, "add_new", broken)

    answer = await http.post("/api/event", headers=tenant_a.headers, json=event())

    assert_problem(answer, 500, "internal_error")
    assert "disk on fire" not in answer.text
    listed = await http.get("/api/events", headers=tenant_a.headers)
    assert listed.json()["events"] == []


async def test_liveness_needs_no_credential(http: Http) -> None:
    answer = await http.get("/health/live")

    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


async def test_readiness_reports_every_dependency(http: Http, storage_name: str) -> None:
    answer = await http.get("/health/ready")

    dependency = "storage" if storage_name == "memory" else "database"
    assert answer.status_code == 200
    assert answer.json()["ready"] is True
    assert answer.json()["dependencies"] == [{"name": dependency, "status": "ok"}]
