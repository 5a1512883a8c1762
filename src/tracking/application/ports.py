"""The ports: what the use cases need from the world, as Protocols the adapters subclass."""

from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Literal, Protocol, Self
from uuid import UUID

import msgspec

from tracking.application.principal import Principal
from tracking.application.privacy import (
    ErasedMetrics,
    ErasureEntry,
    ErasureView,
    ExportedEvent,
    ExportedMetric,
)
from tracking.application.stats import DayFigures, PeriodFigures
from tracking.application.stream import Inbox, JournalBounds, Positioned, Sequenced
from tracking.application.usage import ClientUsage, LoggedRequest, UsageFigures
from tracking.application.views import (
    ClientView,
    EventCriteria,
    EventView,
    MetricCriteria,
    UserMetricView,
    WindowView,
)
from tracking.domain.clients import Client
from tracking.domain.events import Event
from tracking.domain.limits import Admission, Charge
from tracking.domain.windows import StaleMark, Window, WindowSize


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class IdGenerator(Protocol):
    def new_id(self) -> UUID:
        """A new time-ordered id (UUIDv7): later calls give greater ids."""
        ...


EventKey = tuple[UUID, UUID]
"""An event's identity: `(client_id, id)`. Ids are unique per client, not across clients."""


UserKey = tuple[UUID, str]
"""A user: `(client_id, user_id)`. User ids are unique per client, not across clients."""


@dataclass(frozen=True, slots=True)
class Added:
    """`stored_before`: the keys that were stored before (duplicates; usually none).
    `sequenced`: the events stored, by client, at their positions in the client's commit
    order (in the order given). `refused`: the suppressed users among the events' (usually
    none), whose events were left out."""

    stored_before: set[EventKey]
    sequenced: list[Sequenced]
    refused: set[UserKey]


class EventRepository(Protocol):
    async def add_new(self, events: Sequence[Event]) -> Added:
        """Stores each event whose key is not stored yet and whose user is not suppressed,
        and journals the stored ones at the next positions of their clients (held, to the
        commit, from any other transaction of the same client). Keys are unique within
        `events`. Suppressions are looked up in the same step, in this transaction, so one
        committed before is always seen.

        A concurrent transaction adding the same key makes this one wait, then skip it."""
        ...


class EventStore(Protocol):
    async def store_new(self, events: Sequence[Event]) -> Added:
        """`EventRepository.add_new` as a transaction of its own, committed on return: for a
        write with nothing else to do in its transaction (no late window to mark), in one
        step. An answer lost after the step was sent (the connection broke, a deadline
        passed) is `Unavailable` `commit_unknown`: it may have landed."""
        ...


class SuppressionRepository(Protocol):
    """Users whose events are refused (erased with suppression). Storage keeps each as a keyed
    hash (`domain/privacy.py`), never the user id in clear."""

    async def suppressed_among(self, users: Collection[UserKey]) -> set[UserKey]:
        """Those of these users who are suppressed, in one lookup, in this transaction (the
        writer asks it before inserting when which of two events sent with one key is stored
        depends on it: `add_new` itself leaves suppressed users' events out)."""
        ...

    async def suppress(self, user: UserKey, at: datetime) -> None:
        """Refuses the user's events from this transaction's commit on (a user suppressed
        already stays so, since when they were)."""
        ...

    async def lift(self, user: UserKey) -> bool:
        """Accepts the user's events again; False when they were not suppressed."""
        ...


@dataclass(frozen=True, slots=True)
class Stored:
    """Committed: a caller may acknowledge every event of the write as durable. `duplicates`
    are the keys that were stored before it (usually none); `suppressed` those refused, their
    user being suppressed (usually none); the others it stored."""

    duplicates: frozenset[EventKey]
    suppressed: frozenset[EventKey] = frozenset()


@dataclass(frozen=True, slots=True)
class Queued:
    """Handed, durably, to a queue whose consumer stores each event exactly once (Kafka
    ingest): which of them are duplicates is not known yet."""


WriteResult = Stored | Queued


class EventWriter(Protocol):
    async def write(self, events: Sequence[Event]) -> WriteResult:
        """Stores (or queues) each event whose key is not stored yet, and answers only once
        that is durable."""
        ...


class ClientRepository(Protocol):
    async def add(self, client: Client) -> None: ...

    async def save(self, client: Client) -> None: ...

    async def get(self, client_id: UUID) -> Client | None: ...

    async def get_by_name(self, name: str) -> Client | None: ...

    async def get_by_key_hash(self, api_key_hash: str) -> Client | None: ...

    async def count_active_admins(self) -> int: ...


class WindowRepository(Protocol):
    async def mark_stale(self, marks: Collection[StaleMark]) -> None:
        """These clients' closed windows received events: the next run recomputes those
        clients' rows. Marking rows that are being computed waits for that computation to
        commit."""
        ...


class RemovedEvents(msgspec.Struct, frozen=True, kw_only=True):
    """What one batch of retention removed: how many events, the first and last to occur."""

    count: int
    first: datetime | None = None
    last: datetime | None = None


class RunLogRows(msgspec.Struct, frozen=True, kw_only=True):
    """Rows of the metrics run log: computed windows, and clients' stale marks."""

    windows: int
    stale_marks: int


class EventMonth(msgspec.Struct, frozen=True, kw_only=True):
    """A UTC month of events that the storage keeps apart (PostgreSQL: a partition), so it
    can go whole: `events` counts its events by client."""

    start: datetime
    end: datetime
    events: dict[UUID, int]


class KeyTrim(msgspec.Struct, frozen=True, kw_only=True):
    """One batch of the keys of dropped months trimmed: how many, and whether none is left."""

    removed: int
    done: bool


class RetentionRepository(Protocol):
    """What retention removes, in the unit of work's transaction: the caller commits a batch
    at a time, so no transaction holds many rows' locks for long and ingest never waits on
    one. Rows another transaction holds locked are skipped, left for the next batch or run.
    A month whose every event is expired can go whole instead (`drop_event_month`)."""

    async def event_months(self, ending_by: datetime) -> list[EventMonth]:
        """The months kept apart that end at or before `ending_by`, oldest first."""
        ...

    async def drop_event_month(self, month: EventMonth) -> EventMonth | None:
        """Removes the month's events whole, if they are still only of `month`'s clients
        (checked with writes to the month held); the month as dropped, with its counts then.
        None: not dropped, because another client's events came in, or the drop cannot be
        done now (PostgreSQL: a lock not granted within a short timeout; the transaction is
        then spoilt and must be rolled back). The events' keys are trimmed after."""
        ...

    async def trim_event_keys(self, limit: int) -> KeyTrim:
        """Removes at most `limit` keys of events that went with a dropped month."""
        ...

    async def count_events_before(self, client_id: UUID, cutoff: datetime) -> int:
        """The client's events that occurred before `cutoff`."""
        ...

    async def delete_events_before(
        self, client_id: UUID, cutoff: datetime, limit: int
    ) -> RemovedEvents:
        """Removes at most `limit` of the client's events that occurred before `cutoff`,
        oldest first."""
        ...

    async def count_stale_marks_before(self, client_id: UUID, cutoff: datetime) -> int:
        """The client's stale marks of windows that start before `cutoff`."""
        ...

    async def delete_stale_marks_before(self, client_id: UUID, cutoff: datetime) -> int:
        """Removes the client's stale marks of windows that start before `cutoff` (some of
        their events are gone: recomputing them would replace their rows with a part)."""
        ...

    async def count_metric_rows_ended_by(self, cutoff: datetime) -> int:
        """Every client's metric rows of windows that ended at or before `cutoff`."""
        ...

    async def delete_metric_rows_ended_by(self, cutoff: datetime, limit: int) -> int:
        """Removes at most `limit` of those rows."""
        ...

    async def count_run_log_ended_by(self, cutoff: datetime) -> RunLogRows:
        """The run log's computed windows that ended at or before `cutoff`, and every stale
        mark of such a window."""
        ...

    async def delete_run_log_ended_by(self, cutoff: datetime) -> RunLogRows:
        """Removes those windows (not one being computed) and those marks."""
        ...


class UnitOfWork(Protocol):
    """One transaction: `async with uow:` rolls back unless `commit()` ran."""

    events: EventRepository
    clients: ClientRepository
    windows: WindowRepository
    retention: RetentionRepository
    suppressions: SuppressionRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


class ErasureStore(Protocol):
    """What erasing a user does to storage, each step in transactions of its own."""

    async def settle_writes(self) -> None:
        """Returns once every write that was in flight when it was called has ended. Called
        after a suppression committed: a write that looked for suppressions before it has then
        committed its events (which what follows sees, and deletes) or given up."""
        ...

    async def delete_events(self, user: UserKey, limit: int) -> list[datetime]:
        """Deletes at most `limit` of the user's events, in one transaction of its own;
        returns when each deleted one occurred (fewer than `limit`: none is left)."""
        ...

    async def delete_metrics(self, user: UserKey, windows: Collection[Window]) -> ErasedMetrics:
        """Deletes the user's metric rows and takes them out of their windows' run-log totals
        (`users`, `events`), in one transaction. `windows`: those the user's deleted events
        fell in; a computation of one of them still in flight (which may have read the events
        before they went) is waited for, so its rows are deleted too."""
        ...

    async def log(self, entry: ErasureEntry) -> None:
        """Adds the erasure to the log, its user as the keyed hash."""
        ...


class ErasureLogReadModel(Protocol):
    async def list_erasures(
        self, client_id: UUID | None, after: tuple[datetime, UUID] | None, limit: int
    ) -> list[ErasureView]:
        """At most `limit` erasures (of one client, or of all: None), newest first by
        `(erased_at, id)`, after the position `after`."""
        ...


class UserDataReadModel(Protocol):
    """One user's data, a keyset page at a time."""

    async def events_of(
        self, user: UserKey, after: tuple[datetime, UUID] | None, limit: int
    ) -> list[ExportedEvent]:
        """At most `limit` of the user's events in `(occurred_at, id)` order, after `after`."""
        ...

    async def metrics_of(
        self, user: UserKey, after: tuple[int, datetime] | None, limit: int
    ) -> list[ExportedMetric]:
        """At most `limit` of the user's metric rows in `(window_hours, window_start)` order,
        after `after`."""
        ...


class EventFeed(Protocol):
    """Committed events told to the subscribers of their client, in every process."""

    async def publish(self, sequenced: Sequence[Sequenced]) -> None:
        """Called after the commit. Never raises, and never waits for a subscriber: what a
        subscriber misses (a lost message, Redis down), it reads from the journal."""
        ...

    def subscribe(self, client_id: UUID, capacity: int) -> AbstractAsyncContextManager[Inbox]:
        """An inbox receiving the client's events published from now on, until exit."""
        ...


class EventJournal(Protocol):
    """Each client's committed events by position, for the replay horizon."""

    async def bounds(self, client_id: UUID) -> JournalBounds: ...

    async def since(self, client_id: UUID, after: int, through: int) -> list[Positioned]:
        """The client's events at positions `after < p <= through`, in position order (an
        erased event leaves its position out)."""
        ...

    async def forget_before(self, committed_before: datetime) -> int:
        """Drops what transactions committed before then journaled; the count of rows."""
        ...


class EventReadModel(Protocol):
    async def list_events(self, criteria: EventCriteria) -> list[EventView]:
        """At most `criteria.limit` events matching the criteria, in its order."""
        ...


class ClientReadModel(Protocol):
    async def get(self, client_id: UUID) -> ClientView | None: ...

    async def list_all(self) -> list[ClientView]: ...

    async def principal_for_key(self, api_key_hash: str) -> Principal | None:
        """The active client holding this key, or None."""
        ...

    async def principal_for_token(self, client_id: UUID) -> Principal | None:
        """The active client a token names, or None."""
        ...

    async def active_among(self, client_ids: Collection[UUID]) -> dict[UUID, Principal]:
        """Those of these clients that exist and are active, by id, in one lookup."""
        ...


class IssuedToken(msgspec.Struct, frozen=True, kw_only=True):
    access_token: str
    expires_in: int


TokenPurpose = Literal["access", "stream"]
"""What a token opens: the API (an access token), or only the live stream, for a minute."""


class TokenCodec(Protocol):
    def issue(self, principal: Principal, purpose: TokenPurpose = "access") -> IssuedToken: ...

    def verify(self, token: str, purpose: TokenPurpose = "access") -> UUID:
        """The client id a valid token for `purpose` names; raises `Unauthenticated`
        otherwise (a token for another purpose included)."""
        ...


class DependencyCheck(Protocol):
    """One dependency readiness reports (a database, a broker, Redis). A `required` one that
    fails makes the process unready; any other is reported `degraded`, since the service
    works on without it."""

    name: str
    required: bool

    async def check(self) -> None:
        """Returns when the dependency answers; raises otherwise."""
        ...


class ComputedWindow(msgspec.Struct, frozen=True, kw_only=True):
    """`clients`: the clients whose rows were recomputed, or None for the whole window; the
    figures are of those rows."""

    window: Window
    users: int
    events: int
    recomputed: bool
    clients: tuple[UUID, ...] | None = None


class StaleWindow(msgspec.Struct, frozen=True, kw_only=True):
    """A window whose rows of these clients were marked stale by their late events."""

    window: Window
    clients: tuple[UUID, ...]


class MetricsStore(Protocol):
    """Where windows are computed: in the database, one statement per window."""

    def exclusive_run(self) -> AbstractAsyncContextManager[bool]:
        """Holds the run lock for the block; gives False, at once, if another run holds it."""
        ...

    async def oldest_event_at(self) -> datetime | None: ...

    async def never_computed(self, size: WindowSize, starts: Sequence[datetime]) -> list[datetime]:
        """Of these window starts, those never computed, oldest first."""
        ...

    async def stale(self, size: WindowSize) -> list[StaleWindow]:
        """Every window with clients' rows marked stale since, oldest first."""
        ...

    async def occupied(self, size: WindowSize, starts: Sequence[datetime]) -> set[datetime]:
        """Of these windows, those that hold at least one event."""
        ...

    async def compute(
        self, window: Window, computed_at: datetime, clients: Collection[UUID] | None = None
    ) -> ComputedWindow:
        """Makes the window's rows (of `clients` only, when given) those of a fresh
        aggregation, logs it and clears those rows' stale marks, in one transaction."""
        ...

    async def record_empty(self, windows: Sequence[Window], computed_at: datetime) -> list[Window]:
        """Logs these windows as computed with no rows (removing any they had) and clears
        their stale marks, in one transaction. Returns those that hold an event after all
        (one stored since `occupied` answered): they are left as they were, to be computed."""
        ...


class MetricsReadModel(Protocol):
    async def list_metrics(self, criteria: MetricCriteria) -> list[UserMetricView]: ...

    async def oldest_event_at(self) -> datetime | None: ...

    async def list_windows(
        self, size: WindowSize, starts_from: datetime, starts_till: datetime
    ) -> list[WindowView]: ...


class RateLimiter(Protocol):
    async def acquire(self, charges: Sequence[Charge]) -> Admission:
        """All or nothing: every charge fits its limit's current window and all are counted,
        or none is. Exact across every process sharing the limiter; never raises for an
        outage of its store (it decides locally then)."""
        ...


class Cache(Protocol):
    """Answers worth keeping a while: in Redis, shared by every process; else in this one.
    A cache never fails its caller: when its store is unreachable, it misses."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(
        self, key: str, value: bytes, ttl_seconds: float, tags: Collection[str] = ()
    ) -> None:
        """Keeps `value` for `ttl_seconds`, findable by `invalidate_tag` for each tag."""
        ...

    async def delete(self, key: str) -> None: ...

    async def invalidate_prefix(self, prefix: str) -> None:
        """Drops every entry whose key starts with `prefix`."""
        ...

    async def invalidate_tag(self, tag: str) -> None:
        """Drops every entry set with this tag."""
        ...

    async def invalidate_tags(self, tags: Collection[str]) -> None:
        """Drops every entry set with any of these tags, in one round trip to its store."""
        ...


class ClientChanges(Protocol):
    async def announce(self, client_ids: Collection[UUID]) -> None:
        """These clients changed (key, limits, role, active), committed: every process forgets
        what it remembered of them, at once. Never raises for an outage of the channel."""
        ...


class RequestLog(Protocol):
    def record(
        self,
        client_id: UUID,
        method: str,
        route: str,
        status: int,
        seconds: float,
        *,
        request_id: str,
    ) -> None:
        """Keeps an answered request, to be written later: it never waits and never fails
        (when it cannot keep the request, it counts it as dropped)."""
        ...


class RequestLogStore(Protocol):
    """Where logged requests are kept, by UTC day: a day's rows are removed all at once."""

    async def prepare(self, days: Collection[date]) -> None:
        """Makes room for the rows of these days (PostgreSQL: their partitions)."""
        ...

    async def add_all(self, rows: Sequence[LoggedRequest]) -> None:
        """Stores the rows, each once: a row whose key is stored already is skipped, so a
        retried write is safe. Their days were prepared."""
        ...

    async def drop_before(self, day: date) -> list[date]:
        """Removes every row of the days before `day`; returns the days removed."""
        ...


class UsageReadModel(Protocol):
    async def periods(
        self, client_id: UUID | None, bounds: Sequence[datetime], top_routes: int
    ) -> list[UsageFigures]:
        """The figures of each period `[bounds[i], bounds[i + 1])`, of one client or (None)
        of every client."""
        ...

    async def top_clients(self, since: datetime, till: datetime, limit: int) -> list[ClientUsage]:
        """The clients with the most requests in `[since, till)`, most first (then by id)."""
        ...


class StatsReadModel(Protocol):
    """Product statistics of one tenant's events, by `occurred_at` (`domain/stats.py`)."""

    async def day(self, client_id: UUID, start: datetime, end: datetime, top: int) -> DayFigures:
        """The figures of `[start, end)`, with the `top` actions and paths."""
        ...

    async def series(
        self, client_id: UUID, bounds: Sequence[datetime], action: str | None
    ) -> list[PeriodFigures]:
        """The figures of each period `[bounds[i], bounds[i + 1])` (of `action`'s events
        only, when given), one per period, empty ones included."""
        ...
