"""TRACKING_INGEST_MODE=kafka: the API validates, assigns ids and receipt times, and answers
202 once the broker has the events; the consumer stores them. No broker, no acknowledgement."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import ADMIN_KEY, JWT_SECRET
from tests.integration.http_helpers import PROBLEM, event, register
from tests.integration.kafka_helpers import count_is, kafka_settings, running, stored
from tests.kafka import read_all
from tests.sockets import free_port
from tracking.adapters.kafka.messages import decode_message
from tracking.bootstrap import Container
from tracking.entrypoints.consumer.run import ConsumerService
from tracking.entrypoints.http.app import create_app
from tracking.settings import Settings

ADMIN = {"X-API-Key": ADMIN_KEY}


def api_settings(database_url: str, bootstrap: str, topic: str, **more: Any) -> Settings:
    return kafka_settings(
        database_url,
        bootstrap,
        topic,
        ingest_mode="kafka",
        admin_api_key=ADMIN_KEY,
        jwt_secret=JWT_SECRET,
        **more,
    )


@pytest.fixture
async def http(
    database_url: str, kafka_bootstrap: str, kafka_topic: str
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = api_settings(database_url, kafka_bootstrap, kafka_topic)
    async with AsyncTestClient(create_app(Container(settings=settings))) as client:
        yield client


async def test_events_are_accepted_published_and_then_stored_by_the_consumer(
    http: AsyncTestClient[Litestar], database_url: str, kafka_bootstrap: str, kafka_topic: str
) -> None:
    tenant = await register(http, ADMIN)
    own_id = str(uuid.uuid4())

    one = await http.post("/api/event", headers=tenant.headers, json=event(id=own_id))
    batch_body = {"events": [event(user_id=7), event(action="no spaces"), event(user_id="u-9")]}
    batch = await http.post("/api/events", headers=tenant.headers, json=batch_body)

    assert one.status_code == 202, one.text
    assert one.json() == {"id": own_id, "status": "accepted"}
    assert batch.status_code == 202, batch.text
    answer = batch.json()
    assert (answer["accepted"], answer["rejected"], answer["stored"]) == (2, 1, 0)
    assert [r["status"] for r in answer["results"]] == ["accepted", "rejected", "accepted"]
    assert answer["results"][1]["error"]["code"] == "invalid_action"
    accepted = {own_id, answer["results"][0]["id"], answer["results"][2]["id"]}
    assert await stored(database_url) == []  # queued, not stored: the consumer stores

    published = await read_all(kafka_bootstrap, kafka_topic, expected=3)
    messages = {str(decode_message(r.value or b"").id): r for r in published}
    assert set(messages) == accepted
    assert messages[answer["results"][0]["id"]].key == b"7"  # keyed by user id
    assert all(decode_message(r.value or b"").received_at is not None for r in published)

    settings = kafka_settings(database_url, kafka_bootstrap, kafka_topic)
    async with running(ConsumerService(Container(settings=settings))):
        await count_is(database_url, 3)
    rows = await stored(database_url)
    assert {str(row[1]) for row in rows} == accepted
    assert {str(row[0]) for row in rows} == {tenant.id}
    listed = await http.get("/api/events", headers=tenant.headers)
    assert {e["id"] for e in listed.json()["events"]} == accepted


async def test_without_a_broker_ingest_answers_503_and_acknowledges_nothing(
    database_url: str, kafka_topic: str
) -> None:
    nowhere = f"127.0.0.1:{free_port()}"
    settings = api_settings(database_url, nowhere, kafka_topic, kafka_send_timeout_ms=500)
    async with AsyncTestClient(create_app(Container(settings=settings))) as http:
        tenant = await register(http, ADMIN)
        one = await http.post("/api/event", headers=tenant.headers, json=event())
        batch = await http.post("/api/events", headers=tenant.headers, json={"events": [event()]})
        ready = await http.get("/health/ready")

    for answer in (one, batch):
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == PROBLEM
        assert answer.json()["code"] == "broker_unavailable"
        assert int(answer.headers["retry-after"]) >= 1
    assert ready.status_code == 503
    statuses = {d["name"]: d["status"] for d in ready.json()["dependencies"]}
    assert statuses == {"database": "ok", "kafka": "down"}
    assert await stored(database_url) == []
