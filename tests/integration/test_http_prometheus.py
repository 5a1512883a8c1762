"""`GET /metrics` on the API, on PostgreSQL: requests by route template, method and status,
their latency, group commits, the pool, the cache, dependencies and rate limits.

The metrics live as long as this test process: each test compares what it reads after with
what it read before."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.http_helpers import Http, Tenant, event
from tracking.bootstrap import Container, resolved, shut_down
from tracking.entrypoints.http.app import create_app
from tracking.settings import Settings

REQUESTS = "tracking_http_requests_total"
CLIENT = "/api/clients/{client_id}"


@pytest.fixture
def storage_name() -> str:
    return "postgres"


async def scrape(http: Http) -> str:
    answer = await http.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return answer.text


def served(container: Container) -> Callable[[], str]:
    """What `GET /metrics` of the container's app answers, read in this test's event loop
    (the test client runs the app in a loop of its own, where this test's resources are not):
    the same registry the route serves."""
    registry = create_app(container).state.metrics
    return lambda: generate_latest(registry).decode()


def value(text: str, name: str, **labels: str) -> float:
    """A sample's value; 0 for one not (yet) there, as Prometheus reads a missing counter."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def requests(text: str, route: str, method: str, status: int) -> float:
    return value(text, REQUESTS, route=route, method=method, status=str(status))


async def test_requests_are_counted_by_route_template_method_and_status(
    http: Http, tenant_a: Tenant
) -> None:
    before = await scrape(http)
    for _ in range(3):
        assert (await http.get(f"/api/clients/{tenant_a.id}", headers=tenant_a.headers)).is_success
    missing = await http.get(f"/api/clients/{uuid.uuid4()}", headers=tenant_a.headers)
    after = await scrape(http)

    assert missing.status_code in {403, 404}
    assert requests(after, CLIENT, "GET", 200) == requests(before, CLIENT, "GET", 200) + 3
    status = missing.status_code
    assert requests(after, CLIENT, "GET", status) == requests(before, CLIENT, "GET", status) + 1
    assert tenant_a.id not in after  # the template, never the path


async def test_paths_that_match_no_route_share_one_label(http: Http) -> None:
    paths = [f"/no-such/{uuid.uuid4()}" for _ in range(5)]
    before = await scrape(http)
    for path in paths:
        assert (await http.get(path)).status_code == 404
    refused = await http.request("BREW", "/api/event")
    after = await scrape(http)

    assert requests(after, "unmatched", "GET", 404) == requests(before, "unmatched", "GET", 404) + 5
    assert not [path for path in paths if path in after]
    status = refused.status_code
    assert requests(after, "unmatched", "other", status) == (
        requests(before, "unmatched", "other", status) + 1
    )
    assert "BREW" not in after


async def test_latency_is_a_histogram_by_route_from_a_millisecond_to_ten_seconds(
    http: Http, tenant_a: Tenant
) -> None:
    name = "tracking_http_request_duration_seconds"
    before = await scrape(http)
    await http.get(f"/api/clients/{tenant_a.id}", headers=tenant_a.headers)
    after = await scrape(http)

    count = f"{name}_count"
    assert value(after, count, route=CLIENT) == value(before, count, route=CLIENT) + 1
    assert value(after, f"{name}_sum", route=CLIENT) > value(before, f"{name}_sum", route=CLIENT)
    for bound in ("0.001", "0.01", "0.1", "1.0", "10.0", "+Inf"):
        assert f'{name}_bucket{{le="{bound}",route="{CLIENT}"}}' in after


async def test_an_ingest_moves_the_group_commit_histograms(
    http: Http, admin_headers: dict[str, str]
) -> None:
    before = await scrape(http)
    body = {"events": [event(), event()]}
    stored = await http.post("/api/events", headers=admin_headers, json=body)
    assert stored.is_success, stored.text
    after = await scrape(http)

    size, wait = "tracking_group_commit_events", "tracking_group_commit_wait_seconds"
    assert value(after, f"{size}_count") == value(before, f"{size}_count") + 1
    assert value(after, f"{size}_sum") == value(before, f"{size}_sum") + 2
    assert value(after, f"{wait}_count") == value(before, f"{wait}_count") + 1
    assert value(after, f"{wait}_sum") >= value(before, f"{wait}_sum")


@pytest.fixture
async def one_connection(settings: Settings) -> AsyncIterator[Container]:
    """A pool of one connection, so a second caller waits."""
    built = Container(settings=msgspec.structs.replace(settings, db_pool_size=1))
    yield built
    await shut_down(built)


async def test_the_pool_gauges_count_connections_in_use_and_callers_waiting(
    one_connection: Container,
) -> None:
    in_use, waiting = "tracking_db_connections_in_use", "tracking_db_connections_waiting"
    scrape = served(one_connection)
    engine = await resolved(one_connection.engine())
    idle = scrape()
    async with engine.connect():
        held = scrape()
        second = asyncio.create_task(_connect_once(engine))
        for _ in range(100):
            queued = scrape()
            if value(queued, waiting) > value(idle, waiting):
                break
            await asyncio.sleep(0.01)
    await second
    done = scrape()

    assert value(held, in_use) == value(idle, in_use) + 1
    assert value(queued, waiting) == value(idle, waiting) + 1
    assert value(queued, in_use) == value(held, in_use)
    assert value(done, in_use) == value(idle, in_use)
    assert value(done, waiting) == value(idle, waiting)


async def _connect_once(engine: AsyncEngine) -> None:
    async with engine.connect():
        pass


@pytest.fixture(params=["memory", "redis"])
async def cached(settings: Settings, request: pytest.FixtureRequest) -> AsyncIterator[Container]:
    """The answers cache in this process, or in Redis."""
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    built = Container(settings=msgspec.structs.replace(settings, redis_url=url))
    yield built
    await shut_down(built)


async def test_cache_hits_and_misses_are_counted(cached: Container) -> None:
    key = f"test:{uuid.uuid4()}"
    scrape = served(cached)
    cache = await resolved(cached.cache())
    before = scrape()
    assert await cache.get(key) is None
    await cache.set(key, b"answer", 60)
    assert await cache.get(key) == b"answer"
    assert await cache.get(key) == b"answer"
    after = scrape()

    lookups = "tracking_cache_lookups_total"
    assert value(after, lookups, result="miss") == value(before, lookups, result="miss") + 1
    assert value(after, lookups, result="hit") == value(before, lookups, result="hit") + 2


async def test_dependencies_and_rate_limit_decisions_are_served(
    http: Http, tenant_a: Tenant
) -> None:
    before = await scrape(http)
    await http.get("/api/clients/me", headers=tenant_a.headers)
    after = await scrape(http)

    assert value(after, "tracking_dependency_up", dependency="database") == 1.0
    decisions = "tracking_rate_limit_decisions_total"
    admitted = {"mode": "local", "outcome": "admitted"}
    assert value(after, decisions, **admitted) > value(before, decisions, **admitted)


async def test_with_a_port_of_their_own_the_api_port_serves_no_metrics(
    settings: Settings,
) -> None:
    apart = Container(settings=msgspec.structs.replace(settings, prometheus_port=9464))
    try:
        app: Litestar = create_app(apart)
        async with AsyncTestClient(app) as http:
            assert (await http.get("/metrics")).status_code == 404
    finally:
        await shut_down(apart)
