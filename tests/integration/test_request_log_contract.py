"""The request log's ports, on every storage: what is written is counted once, per period and
per client, dropped a day at a time, and the figures are the domain's."""

from datetime import timedelta
from uuid import uuid4

import pytest

from tests.integration.request_log_helpers import DAY, Log, at, log_of, row, write
from tests.integration.storage import storage_of
from tests.integration.test_client_storage_contract import client, save
from tracking.application.usage import ClientUsage, RouteUsage, UsageFigures
from tracking.bootstrap import Container


@pytest.fixture
async def log(container: Container) -> Log:
    return await log_of(container)


def bounds(*hours: float) -> list:  # type: ignore[type-arg]
    return [at(DAY, h) for h in hours]


async def test_each_period_has_its_requests_errors_and_percentiles(log: Log) -> None:
    me = uuid4()
    durations = [5.0, 1.0, 4.0, 2.0, 3.0, 100.0, 7.5, 6.0, 8.0, 9.0]
    statuses = [200, 201, 404, 429, 500, 503, 200, 200, 200, 200]
    rows = [
        row(me, at(DAY, 1 + n / 10), status=s, duration_ms=d)
        for n, (s, d) in enumerate(zip(statuses, durations, strict=True))
    ]
    await write(log, [*rows, row(me, at(DAY, 30))])  # the last one in no period asked

    first, empty = await log.usage.periods(me, bounds(0, 24, 25), top_routes=5)

    # Nearest rank over 10 sorted durations: p50 the 5th (5.0), p95 the 10th (100.0).
    assert first == UsageFigures(
        requests=10,
        client_errors=2,
        server_errors=2,
        p50_ms=5.0,
        p95_ms=100.0,
        top_routes=[RouteUsage(method="GET", route="/api/events", requests=10)],
    )
    assert empty == UsageFigures()


async def test_a_request_on_a_bound_belongs_to_the_later_period(log: Log) -> None:
    me = uuid4()
    await write(log, [row(me, at(DAY, 24) - timedelta(microseconds=1)), row(me, at(DAY, 24))])

    periods = await log.usage.periods(me, bounds(0, 24, 48), top_routes=5)

    assert [p.requests for p in periods] == [1, 1]


async def test_the_busiest_routes_come_first_then_by_method_and_route(log: Log) -> None:
    me = uuid4()
    calls = [
        *[("GET", "/api/events")] * 3,
        *[("POST", "/api/event")] * 3,
        *[("GET", "/api/clients/{client_id}")] * 3,
        *[("GET", "/api/Metrics")] * 2,  # upper case sorts first in code-point order
        *[("GET", "/api/metrics")] * 2,
        ("DELETE", "/api/clients/{client_id}"),
    ]
    rows = [row(me, at(DAY, 2), method=m, route=r) for m, r in calls]
    await write(log, rows)

    (figures,) = await log.usage.periods(me, bounds(0, 24), top_routes=4)

    assert [(r.method, r.route, r.requests) for r in figures.top_routes] == [
        ("GET", "/api/clients/{client_id}", 3),
        ("GET", "/api/events", 3),
        ("POST", "/api/event", 3),
        ("GET", "/api/Metrics", 2),
    ]


async def test_a_client_is_counted_alone_and_none_counts_every_client(log: Log) -> None:
    me, other = uuid4(), uuid4()
    day = DAY + timedelta(days=400)  # no other test writes there
    await write(log, [row(me, at(day, 1)), row(other, at(day, 2)), row(other, at(day, 3))])
    period = [at(day), at(day, 24)]

    assert [p.requests for p in await log.usage.periods(me, period, 5)] == [1]
    assert [p.requests for p in await log.usage.periods(other, period, 5)] == [2]
    assert [p.requests for p in await log.usage.periods(None, period, 5)] == [3]


async def test_a_batch_written_twice_is_stored_once(log: Log) -> None:
    me = uuid4()
    rows = [row(me, at(DAY, 3)), row(me, at(DAY, 4))]
    await write(log, rows)
    await write(log, rows)
    await log.store.prepare({DAY})  # making a day twice is no error either

    (figures,) = await log.usage.periods(me, bounds(0, 24), 5)

    assert figures.requests == 2


async def test_dropping_removes_whole_days_before_the_one_named(log: Log) -> None:
    me = uuid4()
    first = DAY + timedelta(days=700)
    days = [first + timedelta(days=n) for n in range(3)]
    await write(log, [row(me, at(day, 12)) for day in days])

    dropped = await log.store.drop_before(days[2])
    again = await log.store.drop_before(days[2])

    period = [at(days[0]), at(days[2], 24)]
    assert days[0] in dropped
    assert days[1] in dropped
    assert days[2] not in dropped
    assert again == []
    assert [p.requests for p in await log.usage.periods(me, period, 5)] == [1]


async def test_top_clients_rank_by_requests_with_their_names(
    container: Container, log: Log
) -> None:
    storage = await storage_of(container)
    shop, _ = client(f"shop-{uuid4()}")
    blog, _ = client(f"blog-{uuid4()}")
    await save(storage, shop, blog)
    unknown = uuid4()  # no such client: listed without a name
    day = DAY + timedelta(days=1000)
    rows = [
        *[row(shop.id, at(day, 1)) for _ in range(3)],
        *[row(blog.id, at(day, 2)) for _ in range(5)],
        row(unknown, at(day, 3)),
        row(shop.id, at(day, 30)),  # after the range
    ]
    await write(log, rows)

    top = await log.usage.top_clients(at(day), at(day, 24), limit=2)
    everyone = await log.usage.top_clients(at(day), at(day, 24), limit=10)

    assert top == [
        ClientUsage(client_id=blog.id, name=blog.name, requests=5),
        ClientUsage(client_id=shop.id, name=shop.name, requests=3),
    ]
    assert everyone[2] == ClientUsage(client_id=unknown, name=None, requests=1)
    assert len(everyone) == 3


async def test_what_is_written_reads_back_exactly(log: Log) -> None:
    """Instants to the microsecond, durations to the last bit, routes as they are."""
    me = uuid4()
    written = at(DAY, 5) + timedelta(microseconds=123_457)
    route = '/api/clients/{client_id}/"quoted"\\é'
    await write(log, [row(me, written, duration_ms=0.1 + 0.2, route=route, method="PATCH")])

    (figures,) = await log.usage.periods(me, [written, written + timedelta(microseconds=1)], 5)

    assert (figures.requests, figures.p50_ms) == (1, 0.1 + 0.2)
    assert figures.top_routes == [RouteUsage(method="PATCH", route=route, requests=1)]
