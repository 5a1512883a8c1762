"""Schemathesis over every operation of the OpenAPI document, against a real `tracking serve`
on each storage, as a client and as an admin: no server error, and every status, content
type, header and body as the document says. 40 generated cases per operation and storage,
each sent as both: over a thousand cases in all."""

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.processes import ADMIN_KEY, JWT_SECRET, Server, Tracking

CASES_PER_OPERATION = 40
STREAM = "GET /api/events/stream"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module", params=["memory", "embedded"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, dict[str, dict[str, str]]]]:
    runner = Tracking(tmp_path_factory.mktemp(f"fuzz-{request.param}"))
    env = {"TRACKING_ADMIN_API_KEY": ADMIN_KEY, "TRACKING_JWT_SECRET": JWT_SECRET}
    try:
        server = runner.serve("--storage", request.param, env=env)
        admin = {"X-API-Key": ADMIN_KEY}
        client = httpx.post(f"{server.url}/api/clients", headers=admin, json={"name": "fuzz"})
        assert client.status_code == 201, client.text
        yield server, {"admin": admin, "client": {"X-API-Key": client.json()["api_key"]}}
    finally:
        runner.clean_up()


def test_every_operation_answers_as_documented(
    served: tuple[Server, dict[str, dict[str, str]]],
) -> None:
    """Each generated case is sent twice: as a client, then as an admin."""
    server, credentials = served
    schema = schemathesis.openapi.from_url(f"{server.url}/schema/openapi.json")
    loaded = list(schema.get_all_operations())
    operations = [result.ok() for result in loaded if isinstance(result, Ok)]
    assert len(operations) == len(loaded), "every operation of the document loads"
    # A stream that is accepted never ends, so its answer cannot be read whole and checked:
    # tests/integration/test_stream.py checks what it sends, and its errors.
    assert STREAM in {operation.label for operation in operations}
    operations = [operation for operation in operations if operation.label != STREAM]
    sent: list[str] = []

    for operation, mode in itertools.product(operations, GenerationMode):

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=CASES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def answers_as_documented(case: Any) -> None:
            sent.append(case.operation.label)
            for headers in credentials.values():
                case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            answers_as_documented()
        except Unsatisfiable:
            # Nothing of the operation to make invalid (no parameters, no body).
            assert mode is GenerationMode.NEGATIVE, operation.label

    assert {operation.label for operation in operations} <= set(sent)
    print(len(operations), len(sent))
    assert len(operations) >= 14
