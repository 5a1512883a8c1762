"""The OpenAPI document and the interactive docs: served without a credential, and complete."""

from typing import Any

from tests.integration.http_helpers import Http

ROUTES = {
    ("/api/event", "post"),
    ("/api/events", "post"),
    ("/api/events", "get"),
    ("/api/auth/token", "post"),
    ("/api/clients", "post"),
    ("/api/clients", "get"),
    ("/api/clients/me", "get"),
    ("/api/clients/{client_id}", "get"),
    ("/api/clients/{client_id}", "delete"),
    ("/api/clients/{client_id}", "patch"),
    ("/api/clients/{client_id}/rotate-key", "post"),
    ("/api/usage/daily", "get"),
    ("/api/usage/top-clients", "get"),
    ("/api/stats/daily", "get"),
    ("/api/stats/series", "get"),
    ("/health/live", "get"),
    ("/health/ready", "get"),
}


async def document(http: Http) -> dict[str, Any]:
    answer = await http.get("/schema/openapi.json")
    assert answer.status_code == 200
    doc: dict[str, Any] = answer.json()
    return doc


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" not in schema:
        return schema
    name = schema["$ref"].removeprefix("#/components/schemas/")
    resolved: dict[str, Any] = doc["components"]["schemas"][name]
    return resolved


async def test_the_document_lists_every_route(http: Http) -> None:
    doc = await document(http)

    listed = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert listed >= ROUTES


async def test_the_document_has_both_security_schemes_on_api_routes(http: Http) -> None:
    doc = await document(http)

    schemes = doc["components"]["securitySchemes"]
    assert schemes["BearerToken"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["ApiKey"] == {"type": "apiKey", "name": "X-API-Key", "in": "header"}
    for path, method in ROUTES:
        security = doc["paths"][path][method].get("security")
        expected: list[dict[str, list[str]]] | None = (
            [{"BearerToken": []}, {"ApiKey": []}] if path.startswith("/api/") else None
        )
        assert security == expected, (path, method)


async def test_a_documented_400_refers_to_the_problem_schema(http: Http) -> None:
    doc = await document(http)

    for path, method in [("/api/event", "post"), ("/api/events", "get"), ("/api/events", "post")]:
        answer = doc["paths"][path][method]["responses"]["400"]
        schema = answer["content"]["application/problem+json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Problem"}
    problem = doc["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])


async def test_the_batch_body_shows_the_event_fields(http: Http) -> None:
    doc = await document(http)

    body = doc["paths"]["/api/events"]["post"]["requestBody"]["content"]["application/json"]
    batch = resolve(doc, body["schema"])
    events = batch["properties"]["events"]
    item = resolve(doc, events["items"])
    assert (events["minItems"], events["maxItems"]) == (1, 1000)
    assert set(item["properties"]) == {"id", "user_id", "action", "occurred_at", "metadata"}
    assert set(item["required"]) == {"user_id", "action"}


async def test_the_single_event_body_shows_the_same_fields(http: Http) -> None:
    doc = await document(http)

    body = doc["paths"]["/api/event"]["post"]["requestBody"]["content"]["application/json"]
    item = resolve(doc, body["schema"])
    assert set(item["properties"]) == {"id", "user_id", "action", "occurred_at", "metadata"}


async def test_the_interactive_docs_are_served(http: Http) -> None:
    swagger = await http.get("/schema/swagger")
    redoc = await http.get("/schema")

    assert swagger.status_code == 200
    assert "swagger-ui" in swagger.text
    assert redoc.status_code == 200
    assert "redoc" in redoc.text.lower()


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
    ]


async def test_every_api_operation_documents_every_status_it_can_answer(http: Http) -> None:
    doc = await document(http)

    for path, method, operation in operations(doc):
        if not path.startswith("/api/"):
            continue
        expected = {"401", "500", "503"}
        if "requestBody" in operation:
            expected |= {"400", "413", "415"}
        assert expected <= set(operation["responses"]), (method, path)


async def test_every_operation_with_a_body_shows_an_example_of_one(http: Http) -> None:
    doc = await document(http)

    bodies = [(p, m, o) for p, m, o in operations(doc) if "requestBody" in o]
    assert len(bodies) >= 4
    for path, method, operation in bodies:
        examples = operation["requestBody"]["content"]["application/json"]["examples"]
        assert examples["example"]["value"], (method, path)


async def test_bodies_whose_unknown_fields_are_refused_say_so(http: Http) -> None:
    doc = await document(http)

    for name in ("EventIn", "EventBatchSchema", "ClientIn", "ClientUpdateIn"):
        assert doc["components"]["schemas"][name]["additionalProperties"] is False, name


async def test_each_status_of_the_metrics_run_has_one_shape_not_a_union(http: Http) -> None:
    doc = await document(http)
    responses = doc["paths"]["/api/metrics"]["post"]["responses"]

    shapes = {
        status: responses[status]["content"]["application/json"]["schema"]
        for status in ("200", "202")
    }
    assert shapes == {
        "200": {"$ref": "#/components/schemas/MetricsRunOut"},
        "202": {"$ref": "#/components/schemas/AlreadyRunning"},
    }


async def test_the_client_change_body_shows_every_field_as_optional(http: Http) -> None:
    doc = await document(http)

    operation = doc["paths"]["/api/clients/{client_id}"]["patch"]
    body = resolve(doc, operation["requestBody"]["content"]["application/json"]["schema"])
    assert set(body["properties"]) == {
        "rate_limit_per_minute",
        "events_per_minute",
        "role",
        "active",
        "retention_days",
    }
    assert not body.get("required")
    # The one field null means something for: no retention, events kept for ever.
    kinds = {kind.get("type") for kind in body["properties"]["retention_days"]["oneOf"]}
    assert kinds == {"integer", "null"}
    assert {"403", "404", "409"} <= set(operation["responses"])


async def test_the_stats_routes_show_their_shape_headers_and_304(http: Http) -> None:
    doc = await document(http)

    for path, shape in [
        ("/api/stats/daily", "DailyStatsView"),
        ("/api/stats/series", "StatsSeriesView"),
    ]:
        operation = doc["paths"][path]["get"]
        ok = operation["responses"]["200"]
        assert ok["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{shape}"
        }
        assert {"ETag", "Cache-Control"} <= set(ok["headers"])
        assert {"304", "400", "403"} <= set(operation["responses"])
        assert "If-None-Match" in {p["name"] for p in operation["parameters"]}
