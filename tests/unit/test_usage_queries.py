"""DailyUsage and TopClients over the in-memory log: whose requests, which days, which range,
and the errors of a question that makes no sense."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import msgspec
import pytest

from tests.fakes import FixedClock
from tests.unit.support import stats_cache
from tracking.adapters.memory.store import InMemoryStore
from tracking.adapters.memory.usage import InMemoryRequestLogStore, InMemoryUsageReadModel
from tracking.application.errors import Forbidden
from tracking.application.principal import CredentialKind, Principal
from tracking.application.queries.daily_usage import (
    DailyUsage,
    DailyUsageAnswer,
    DailyUsageHandler,
)
from tracking.application.queries.top_clients import (
    TopClients,
    TopClientsAnswer,
    TopClientsHandler,
)
from tracking.application.usage import LoggedRequest
from tracking.domain.clients import Role
from tracking.domain.errors import InvalidInput

NOW = datetime(2025, 3, 30, 21, 30, tzinfo=UTC)  # 23:30 in Paris
ME, OTHER = uuid4(), uuid4()


def principal(client_id: object = None, role: Role = Role.CLIENT) -> Principal:
    return Principal(
        client_id=client_id or uuid4(),  # type: ignore[arg-type]
        role=role,
        credential=CredentialKind.API_KEY,
        rate_limit_per_minute=1000,
        events_per_minute=1000,
    )


ADMIN = principal(role=Role.ADMIN)


def logged(client_id: object, at: datetime, status: int = 200) -> LoggedRequest:
    return LoggedRequest(
        client_id=client_id,  # type: ignore[arg-type]
        requested_at=at,
        id=uuid4(),
        method="GET",
        route="/api/events",
        status=status,
        duration_ms=3.0,
        request_id="r",
    )


@pytest.fixture
async def store() -> InMemoryStore:
    store = InMemoryStore()
    rows = [
        logged(ME, NOW - timedelta(minutes=10)),  # today in Paris and in UTC
        logged(ME, NOW - timedelta(days=1, minutes=1), status=500),
        logged(OTHER, NOW - timedelta(hours=1)),
        logged(OTHER, NOW - timedelta(hours=2), status=404),
    ]
    await InMemoryRequestLogStore(store).add_all(rows)
    return store


def daily(store: InMemoryStore) -> Callable[[DailyUsage], Awaitable[DailyUsageAnswer]]:
    """The use case, its answer decoded from the JSON it is sent as."""
    handler = DailyUsageHandler(
        InMemoryUsageReadModel(store), stats_cache(namespace="usage"), FixedClock(NOW)
    )

    async def ask(query: DailyUsage) -> DailyUsageAnswer:
        return msgspec.json.decode((await handler(query)).body, type=DailyUsageAnswer)

    return ask


def top(store: InMemoryStore) -> Callable[[TopClients], Awaitable[TopClientsAnswer]]:
    handler = TopClientsHandler(
        InMemoryUsageReadModel(store), stats_cache(namespace="usage"), FixedClock(NOW)
    )

    async def ask(query: TopClients) -> TopClientsAnswer:
        return msgspec.json.decode((await handler(query)).body, type=TopClientsAnswer)

    return ask


async def test_by_default_the_last_seven_days_today_included(store: InMemoryStore) -> None:
    answer = await daily(store)(DailyUsage(actor=principal(ME)))

    assert [str(d.date) for d in answer.days] == [f"2025-03-{n}" for n in range(24, 31)]
    assert [d.requests for d in answer.days][-2:] == [1, 1]
    assert answer.days[-2].server_errors == 1
    assert answer.client_id == ME


async def test_today_is_the_zones_today(store: InMemoryStore) -> None:
    # 2025-03-31 00:30 in Tokyo (+09:00) while it is the 30th in UTC.
    answer = await daily(store)(DailyUsage(actor=principal(ME), tz="Asia/Tokyo"))

    assert str(answer.days[-1].date) == "2025-03-31"
    assert answer.tz == "Asia/Tokyo"


async def test_a_client_reads_its_own_and_not_anothers(store: InMemoryStore) -> None:
    mine = await daily(store)(DailyUsage(actor=principal(ME), client_id=ME))

    assert sum(d.requests for d in mine.days) == 2
    with pytest.raises(Forbidden) as refused:
        await daily(store)(DailyUsage(actor=principal(ME), client_id=OTHER))
    assert refused.value.code == "forbidden_client"


async def test_an_admin_reads_one_client_or_every_client(store: InMemoryStore) -> None:
    other = await daily(store)(DailyUsage(actor=ADMIN, client_id=OTHER))
    everyone = await daily(store)(DailyUsage(actor=ADMIN))

    assert sum(d.requests for d in other.days) == 2
    assert other.days[-1].client_errors == 1
    assert sum(d.requests for d in everyone.days) == 4
    assert everyone.client_id is None


@pytest.mark.parametrize(
    ("first", "till", "tz", "field"),
    [
        ("2025-03-30", "2025-03-30", "UTC", "till"),
        ("2025-03-31", "2025-03-30", "UTC", "till"),
        ("2024-01-01", "2025-01-02", "UTC", "till"),  # 367 days
        ("2025-13-01", None, "UTC", "from"),
        (None, "tomorrow", "UTC", "till"),
        (None, None, "Europe/Atlantis", "tz"),
    ],
)
async def test_a_range_that_makes_no_sense_is_invalid_query(
    store: InMemoryStore, first: str | None, till: str | None, tz: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await daily(store)(DailyUsage(actor=principal(ME), first=first, till=till, tz=tz))

    assert refused.value.code == "invalid_query"
    assert [e.field for e in refused.value.errors] == [field]


async def test_366_days_is_the_longest_range(store: InMemoryStore) -> None:
    answer = await daily(store)(
        DailyUsage(actor=principal(ME), first="2024-01-01", till="2025-01-01")
    )

    assert len(answer.days) == 366


async def test_top_clients_are_for_admins_over_the_last_24_hours(store: InMemoryStore) -> None:
    handler = top(store)

    answer = await handler(TopClients(actor=ADMIN))
    one = await handler(TopClients(actor=ADMIN, limit=1))

    assert [(c.client_id, c.requests) for c in answer.clients] == [(OTHER, 2), (ME, 1)]
    assert (answer.since, answer.till) == (NOW - timedelta(hours=24), NOW)
    assert [c.client_id for c in one.clients] == [OTHER]
    with pytest.raises(Forbidden) as refused:
        await handler(TopClients(actor=principal(ME)))
    assert refused.value.code == "admin_required"


async def test_top_clients_from_alone_is_the_24_hours_from_it(store: InMemoryStore) -> None:
    handler = top(store)
    since = NOW - timedelta(days=2)

    answer = await handler(TopClients(actor=ADMIN, since=since))

    assert answer.till == since + timedelta(hours=24)
    assert [(c.client_id, c.requests) for c in answer.clients] == [(ME, 1)]
