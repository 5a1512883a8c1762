"""PostgreSQL goes away and comes back while the service runs: callers get 503 with
Retry-After (never 401 or 500), and the same app recovers on its own, having lost nothing."""

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import ADMIN_KEY, JWT_SECRET
from tests.integration.http_helpers import PROBLEM, bearer, event, register
from tests.integration.outage import Database, reachable
from tracking.adapters.postgres import migrations
from tracking.adapters.postgres.events import PostgresEventRepository
from tracking.application.ports import Added
from tracking.bootstrap import Container
from tracking.domain.events import Event
from tracking.entrypoints.http.app import create_app
from tracking.settings import Settings

ADMIN = {"X-API-Key": ADMIN_KEY}
RECOVERY_ATTEMPTS = 40  # a quarter of a second apart
# Not a performance bound: only "answered at all while hung" (the test client blocks its
# loop on each request, so the guard is pytest-timeout's signal, which still unfreezes).
HANG_GUARD_SECONDS = 300


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path)
    yield database
    await database.stop()


@pytest.fixture
async def url(database: Database) -> str:
    url = await database.start()
    await asyncio.to_thread(migrations.upgrade, url)
    return url


def short_deadlines(url: str, *, pool_size: int = 20, statement_ms: int = 2000) -> Settings:
    return Settings(
        storage="postgres",
        database_url=url,
        admin_api_key=ADMIN_KEY,
        jwt_secret=JWT_SECRET,
        db_pool_size=pool_size,
        db_connect_timeout_seconds=1,
        db_pool_timeout_seconds=1,
        db_statement_timeout_ms=statement_ms,
    )


@pytest.fixture
async def http(url: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = short_deadlines(url)
    async with AsyncTestClient(create_app(Container(settings=settings))) as client:
        yield client


async def test_while_the_database_is_down_every_route_that_needs_it_answers_503(
    database: Database, url: str, http: AsyncTestClient[Litestar]
) -> None:
    # Credentials never used to authenticate, so no cache can answer for them.
    by_key = await register(http, ADMIN)
    by_token = await bearer(http, (await register(http, ADMIN)).api_key)
    assert (await http.post("/api/event", headers=ADMIN, json=event())).status_code == 201

    await database.stop()
    assert not await reachable(url)

    ready = await http.get("/health/ready")
    assert ready.status_code == 503
    assert {d["name"]: d["status"] for d in ready.json()["dependencies"]} == {"database": "down"}
    one = await http.post("/api/event", headers=ADMIN, json=event())
    batch = await http.post("/api/events", headers=ADMIN, json={"events": [event(), event()]})
    for answer in (one, batch):
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == PROBLEM
        assert answer.json()["code"] == "database_unavailable"
        assert int(answer.headers["retry-after"]) >= 1
    listed = await http.get("/api/events", headers=ADMIN)
    assert listed.status_code == 503, listed.text
    assert "retry-after" in listed.headers
    # Who the caller is cannot be known without the database: "try again", not "who are you".
    for headers in (by_key.headers, by_token):
        me = await http.get("/api/clients/me", headers=headers)
        assert me.status_code == 503, me.text
        assert me.headers["content-type"] == PROBLEM
    assert (await http.get("/health/live")).status_code == 200


async def test_when_the_database_comes_back_the_same_app_recovers_with_nothing_lost(
    database: Database, url: str, http: AsyncTestClient[Litestar]
) -> None:
    before = await http.post("/api/event", headers=ADMIN, json=event(user_id="u-before"))
    assert before.status_code == 201, before.text

    await database.stop()
    assert not await reachable(url)
    assert (await http.post("/api/event", headers=ADMIN, json=event())).status_code == 503
    assert await database.start() == url  # same directory, same address

    # The pool may hold connections to the old server: give it a few tries to notice.
    ready = 0
    for _ in range(RECOVERY_ATTEMPTS):
        ready = (await http.get("/health/ready")).status_code
        if ready == 200:
            break
        await asyncio.sleep(0.25)
    assert ready == 200
    # A retry carries the same id, so it is stored once whichever attempt got through.
    after = event(id=str(uuid.uuid4()), user_id="u-after")
    statuses = []
    for _ in range(RECOVERY_ATTEMPTS):
        statuses.append((await http.post("/api/event", headers=ADMIN, json=after)).status_code)
        if statuses[-1] != 503:
            break
        await asyncio.sleep(0.25)
    assert statuses[-1] in {200, 201}, statuses
    assert set(statuses[:-1]) <= {503}, statuses

    listed = await http.get("/api/events", headers=ADMIN, params={"order": "asc"})
    assert listed.status_code == 200, listed.text
    ids = [e["id"] for e in listed.json()["events"]]
    assert ids == [before.json()["id"], after["id"]]


async def test_an_outage_is_logged_once_going_down_and_once_coming_back_and_counted(
    database: Database, url: str, http: AsyncTestClient[Litestar], caplog: pytest.LogCaptureFixture
) -> None:
    assert (await http.post("/api/event", headers=ADMIN, json=event())).status_code == 201
    failures_before = failures(await http.get("/metrics"))

    with caplog.at_level(logging.INFO):
        await database.stop()
        answers = [
            (await http.post("/api/event", headers=ADMIN, json=event())).status_code
            for _ in range(10)
        ]
        down = (await http.get("/metrics")).text
        await database.start()
        for _ in range(RECOVERY_ATTEMPTS):
            if (await http.get("/health/ready")).status_code == 200:
                break
            await asyncio.sleep(0.25)

    assert answers == [503] * 10
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name.startswith("tracking")]
    assert [level for level, _ in said] == ["WARNING", "INFO"], said
    assert said[0][1].startswith("database unavailable: ")
    assert said[1][1].startswith("database available again after ")
    assert not [r for r in caplog.records if r.exc_info]  # no traceback for an outage
    assert 'tracking_dependency_up{dependency="database"} 0.0' in down
    assert failures(await http.get("/metrics")) >= failures_before + 10


def failures(metrics: Response) -> float:
    name = 'tracking_dependency_failures_total{dependency="database"} '
    lines = [line for line in metrics.text.splitlines() if line.startswith(name)]
    return float(lines[0].removeprefix(name)) if lines else 0.0


@pytest.mark.timeout(HANG_GUARD_SECONDS, method="signal")
async def test_a_hung_database_answers_503_within_our_own_deadlines_not_its(
    database: Database, url: str
) -> None:
    """Frozen, not refusing: the server's own statement timeout cannot fire, so the deadlines
    are the client's (pool wait, connect, statement). Every request is answered while the
    server is still frozen; the hang guard is far above the configured second."""
    settings = short_deadlines(url, pool_size=4, statement_ms=1000)
    async with AsyncTestClient(create_app(Container(settings=settings))) as http:
        tenant = await register(http, ADMIN)
        warm = [http.post("/api/event", headers=tenant.headers, json=event()) for _ in range(8)]
        assert {a.status_code for a in await asyncio.gather(*warm)} == {201}

        with database.frozen():
            sends = [
                http.post("/api/event", headers=tenant.headers, json=event()) for _ in range(16)
            ]
            reads = [http.get("/api/events", headers=tenant.headers) for _ in range(4)]
            answers = await asyncio.gather(*sends, *reads)

        for answer in answers:
            assert answer.status_code == 503, answer.text
            assert answer.headers["content-type"] == PROBLEM
            assert int(answer.headers["retry-after"]) >= 1
        for _ in range(RECOVERY_ATTEMPTS):
            if (await http.get("/health/ready")).status_code == 200:
                break
            await asyncio.sleep(0.25)
        listed = await http.get("/api/events", headers=tenant.headers, params={"limit": 1000})
        assert listed.status_code == 200, listed.text
        # Nothing answered 503 was stored, unless its answer said its commit may have landed.
        maybe = sum(1 for a in answers if a.json()["code"] == "commit_unknown")
        assert 8 <= len(listed.json()["events"]) <= 8 + maybe


@pytest.mark.parametrize("late", [False, True], ids=["one statement", "a transaction"])
async def test_a_commit_the_database_did_not_confirm_says_it_may_have_landed(
    url: str, http: AsyncTestClient[Litestar], monkeypatch: pytest.MonkeyPatch, late: bool
) -> None:
    """Sent, never confirmed (the deadline passed, the connection broke): a plain "retry"
    would be a lie when the sender gave no id, so the answer says what may have happened.
    A live event is stored by one statement, its own commit; a late one in a transaction that
    also marks its window stale."""
    if late:
        confirm = asyncpg.transaction.Transaction.commit

        async def unconfirmed(self: asyncpg.transaction.Transaction) -> None:
            await confirm(self)
            raise TimeoutError

        monkeypatch.setattr(asyncpg.transaction.Transaction, "commit", unconfirmed)
    else:
        add = PostgresEventRepository.add_new

        async def unanswered(self: PostgresEventRepository, events: Sequence[Event]) -> Added:
            await add(self, events)
            raise TimeoutError

        monkeypatch.setattr(PostgresEventRepository, "add_new", unanswered)
    occurred = datetime.now(UTC) - timedelta(days=1) if late else datetime.now(UTC)
    sent = event(id=str(uuid.uuid4()), occurred_at=occurred.isoformat())
    answer = await http.post("/api/event", headers=ADMIN, json=sent)
    monkeypatch.undo()

    assert answer.status_code == 503, answer.text
    assert answer.json()["code"] == "commit_unknown"
    assert "may have landed" in answer.json()["detail"]
    again = await http.post("/api/event", headers=ADMIN, json=sent)
    assert again.json()["status"] == "duplicate"
