"""Plain helpers for unit tests: an in-memory installation built by hand, and its callers."""

from collections.abc import Collection, Sequence
from datetime import timedelta
from uuid import UUID, uuid4

from tracking.adapters.group_commit import GroupCommitEventWriter, UnitOfWorkEventStore
from tracking.adapters.jwt_tokens import PyJwtTokenCodec
from tracking.adapters.memory.cache import InMemoryCache
from tracking.adapters.memory.rate_limiter import InMemoryRateLimiter
from tracking.adapters.memory.read_models import InMemoryClientReadModel
from tracking.adapters.memory.store import InMemoryStore
from tracking.adapters.memory.stream import InMemoryEventFeed
from tracking.adapters.memory.unit_of_work import InMemoryUnitOfWork
from tracking.adapters.system import SystemClock, UuidV7Generator
from tracking.application.answer_cache import AnswerCache
from tracking.application.commands.record_events import NewEvent, RecordEvents, RecordEventsHandler
from tracking.application.commands.register_client import (
    ClientDefaults,
    RegisterClient,
    RegisterClientHandler,
    RegisteredClient,
)
from tracking.application.ports import (
    ClientChanges,
    Clock,
    EventWriter,
    RateLimiter,
    UnitOfWorkFactory,
    WriteResult,
)
from tracking.application.principal import CredentialKind, Principal
from tracking.application.queries.authenticate import Authenticate, AuthenticateHandler
from tracking.domain.clients import Client, Role
from tracking.domain.events import Event
from tracking.domain.windows import WindowSize

JWT_SECRET = "unit-test-secret-" + "x" * 64
ISSUER = "tracking"
AUDIENCE = "tracking-api"
TOKEN_TTL = timedelta(minutes=15)
STRONG_KEY = "trk_" + "K" * 43
OTHER_STRONG_KEY = "trk_" + "L" * 43


def uow_factory(store: InMemoryStore) -> UnitOfWorkFactory:
    return lambda: InMemoryUnitOfWork(store)


def codec(
    clock: Clock | None = None,
    *,
    secret: str = JWT_SECRET,
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
    ttl: timedelta = TOKEN_TTL,
) -> PyJwtTokenCodec:
    """Tokens are checked against the real time, so by default they are issued at it."""
    return PyJwtTokenCodec(
        secret=secret,
        issuer=issuer,
        audience=audience,
        ttl=ttl,
        clock=clock or SystemClock(),
    )


def authenticator(
    store: InMemoryStore,
    *,
    clock: Clock | None = None,
    failures_per_minute: int | None = None,
    limiter: RateLimiter | None = None,
) -> AuthenticateHandler:
    clock = clock or SystemClock()
    return AuthenticateHandler(
        InMemoryClientReadModel(store),
        codec(),
        limiter or InMemoryRateLimiter(now=lambda: clock.now().timestamp()),
        clock,
        failures_per_minute=failures_per_minute,
    )


async def authenticate_key(store: InMemoryStore, api_key: str) -> Principal:
    return await authenticator(store)(Authenticate(api_key=api_key))


def principal_of(client: Client, credential: CredentialKind = CredentialKind.API_KEY) -> Principal:
    return Principal.of(client, credential)


def principal(
    role: Role = Role.CLIENT, credential: CredentialKind = CredentialKind.API_KEY
) -> Principal:
    """A caller of a client that need not exist, with the default limits."""
    defaults = ClientDefaults()
    return Principal(
        client_id=uuid4(),
        role=role,
        credential=credential,
        rate_limit_per_minute=defaults.rate_limit_per_minute,
        events_per_minute=defaults.events_per_minute,
    )


async def register(
    store: InMemoryStore, name: str, role: Role = Role.CLIENT, clock: Clock | None = None
) -> RegisteredClient:
    handler = RegisterClientHandler(
        uow_factory(store), clock or SystemClock(), UuidV7Generator(), ClientDefaults()
    )
    return await handler(RegisterClient(actor=Principal.operator(), name=name, role=role))


class ChangesSpy(ClientChanges):
    """Remembers each announcement, and what the store had committed of those clients then:
    an announcement must follow its commit, or another process could read the old state."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self.announced: list[set[UUID]] = []
        self.seen: dict[UUID, Client | None] = {}

    async def announce(self, client_ids: Collection[UUID]) -> None:
        self.announced.append(set(client_ids))
        self.seen |= {client_id: self._store.clients.get(client_id) for client_id in client_ids}


def group_commit(store: InMemoryStore, clock: Clock) -> GroupCommitEventWriter:
    return GroupCommitEventWriter(
        uow_factory(store),
        UnitOfWorkEventStore(uow_factory(store)),
        clock=clock,
        window_size=WindowSize(4),
        feed=InMemoryEventFeed(),
    )


def stats_cache(cache: InMemoryCache | None = None, namespace: str = "stats") -> AnswerCache:
    """The stats' (or another kind's) answers over an in-memory cache (a fresh one by
    default)."""
    return AnswerCache(
        cache or InMemoryCache(max_entries=1000),
        namespace=namespace,
        open_ttl=15,
        settled_ttl=3600,
        guard_seconds=60,
    )


def recorder(store: InMemoryStore, clock: Clock) -> RecordEventsHandler:
    return RecordEventsHandler(
        group_commit(store, clock), clock, UuidV7Generator(), timedelta(days=30), stats_cache()
    )


async def record(
    store: InMemoryStore, clock: Clock, client_id: UUID, events: list[NewEvent]
) -> None:
    """Seeds events for a client; every one of them must be stored."""
    recorded = await recorder(store, clock)(RecordEvents(client_id=client_id, events=events))
    assert recorded.count("stored") == len(events), recorded


class WriterSpy(EventWriter):
    """The real group-commit writer over the memory store, remembering every write it got."""

    def __init__(self, store: InMemoryStore, clock: Clock) -> None:
        self._writer = group_commit(store, clock)
        self.writes: list[list[Event]] = []

    async def write(self, events: Sequence[Event]) -> WriteResult:
        self.writes.append(list(events))
        return await self._writer.write(events)
