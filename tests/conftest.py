"""Shared fixtures: real servers for the session, and a composed container over each storage."""

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.databases import create_database, create_template, drop_database
from tests.fakes import FixedClock
from tests.kafka import Tansu, create_topics, new_topic_name
from tests.redis_server import RedisServer
from tracking.adapters.postgres.embedded import EmbeddedPostgres
from tracking.application.handlers import Handlers
from tracking.bootstrap import Container, resolved, shut_down
from tracking.entrypoints.http.app import create_app
from tracking.settings import Settings

ADMIN_KEY = "trk_" + "A" * 43
JWT_SECRET = "s" * 48


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server for the whole session; never skipped: it is part of the product."""
    given = os.environ.get("TRACKING_TEST_DATABASE_URL")
    if given:
        yield given
        return
    server = EmbeddedPostgres(str(tmp_path_factory.mktemp("postgres")))
    url = server.start()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def template_ready(postgres_server_url: str) -> str:
    create_template(postgres_server_url)
    return postgres_server_url


@pytest.fixture
async def database_url(template_ready: str) -> AsyncIterator[str]:
    """A database of its own for one test, already at the schema's head."""
    url = await create_database(template_ready)
    yield url
    await drop_database(template_ready, url)


@pytest.fixture
async def empty_database_url(postgres_server_url: str) -> AsyncIterator[str]:
    """A database of its own for one test, with no schema at all (never migrated)."""
    url = await create_database(postgres_server_url, migrated=False)
    yield url
    await drop_database(postgres_server_url, url)


@pytest.fixture(params=["memory", "postgres"])
def storage_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def event_max_age_days() -> int:
    """Many tests send events on fixed dates of 2025, older than live ingest's default limit
    by now: the suite lifts the limit, and the tests of the limit itself set it back to the
    default by parametrizing this fixture."""
    return 36_500


@pytest.fixture
def settings(
    storage_name: str, event_max_age_days: int, request: pytest.FixtureRequest
) -> Settings:
    common: dict[str, Any] = {
        "admin_api_key": ADMIN_KEY,
        "jwt_secret": JWT_SECRET,
        "event_max_age_days": event_max_age_days,
    }
    if storage_name == "memory":
        return Settings(storage="memory", **common)
    url: str = request.getfixturevalue("database_url")
    return Settings(storage="postgres", database_url=url, **common)


@pytest.fixture
async def container(settings: Settings) -> AsyncIterator[Container]:
    built = Container(settings=settings)
    yield built
    await shut_down(built)


@pytest.fixture
async def handlers(container: Container) -> Handlers:
    """The container's use cases, its resources open."""
    return await resolved(container.handlers())


@pytest.fixture
def app(container: Container) -> Litestar:
    return create_app(container)


@pytest.fixture
async def http(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app) as client:
        yield client


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"X-API-Key": ADMIN_KEY}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Kafka-protocol broker for the whole session; never skipped: it is part of the
    product."""
    given = os.environ.get("TRACKING_TEST_KAFKA_BOOTSTRAP")
    if given:
        yield given
        return
    broker = Tansu(tmp_path_factory.mktemp("tansu") / "tansu.log")
    yield broker.bootstrap
    broker.stop()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis server for the whole session; never skipped: it is part of the product. Tests
    share it, each under keys of its own (client ids, prefixes)."""
    given = os.environ.get("TRACKING_TEST_REDIS_URL")
    if given:
        yield given
        return
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server.url
    server.stop()


@pytest.fixture
async def kafka_topic(kafka_bootstrap: str) -> str:
    """A topic of its own for one test (4 partitions), with its dead-letter topic."""
    topic = new_topic_name()
    await create_topics(kafka_bootstrap, topic, f"{topic}.dlq", partitions=4)
    return topic
