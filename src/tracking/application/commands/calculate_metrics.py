"""CalculateMetrics: compute every due window that was never computed or went stale."""

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

import msgspec

from tracking.application.errors import Forbidden
from tracking.application.metrics_policy import MetricsPolicy
from tracking.application.ports import Clock, ComputedWindow, MetricsStore, StaleWindow
from tracking.application.principal import Principal
from tracking.domain.errors import FieldError, InvalidInput
from tracking.domain.windows import Window, due_windows


class CalculateMetrics(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal
    now: datetime | None = None
    since: datetime | None = None
    dry_run: bool = False


class MetricsRun(msgspec.Struct, frozen=True, kw_only=True):
    already_running: bool = False
    computed: list[ComputedWindow] = msgspec.field(default_factory=list)
    """Windows with events, computed one by one: newly due ones whole, then stale clients'
    rows."""
    planned: list[Window] = msgspec.field(default_factory=list)
    planned_stale: list[StaleWindow] = msgspec.field(default_factory=list)
    empty: int = 0
    """Windows without a single event, recorded (or, in a dry run, to record) all at once."""
    pending: int = 0
    pending_by_client: dict[UUID, int] = msgspec.field(default_factory=dict)
    """Of `pending`, the stale windows left for the next run, by the client they belong to."""


Progress = Callable[[ComputedWindow, int, int], None]


class CalculateMetricsHandler:
    """Windows are fixed by the clock, never by the trigger's timing. A run computes every due
    window (closed for longer than the grace period) never computed, then the clients' rows
    marked stale by late events (or an import), each oldest first: one tenant's history never
    delays anyone's fresh windows, and a late event recomputes its own client's rows only. At
    most `max_windows` computations of windows that hold events; `pending` says how many are
    left. Due windows without a single event are recorded all at once, however many (a
    backfill over a quiet month finishes in one run). The first run starts at the oldest
    event's window, at most `backfill` ago unless `since` says otherwise. Only one run at a
    time: another gets `already_running`."""

    def __init__(self, store: MetricsStore, clock: Clock, policy: MetricsPolicy) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy

    async def __call__(
        self, command: CalculateMetrics, progress: Progress | None = None
    ) -> MetricsRun:
        if not command.actor.is_admin:
            raise Forbidden("admin_required", "only an admin may run the metrics calculation")
        now = command.now or self._clock.now()
        _check(command)
        async with self._store.exclusive_run() as acquired:
            if not acquired:
                return MetricsRun(already_running=True)
            fresh = await self._fresh(now, command.since)
            starts = [window.start for window in fresh]
            occupied = await self._store.occupied(self._policy.size, starts) if fresh else set()
            busy = [window for window in fresh if window.start in occupied]
            empty = [window for window in fresh if window.start not in occupied]
            stale = await self._stale(now, set(starts))
            room = self._policy.max_windows
            batch, stale_batch = busy[:room], stale[: max(0, room - len(busy))]
            left = stale[len(stale_batch) :]
            pending = len(busy) - len(batch) + len(left)
            if command.dry_run:
                return MetricsRun(
                    planned=batch,
                    planned_stale=stale_batch,
                    empty=len(empty),
                    pending=pending,
                    pending_by_client=_by_client(left),
                )
            filled = await self._store.record_empty(empty, self._clock.now()) if empty else []
            computed: list[ComputedWindow] = []
            todo = len(batch) + len(stale_batch)
            for window, clients in [
                *((w, None) for w in batch),
                *((s.window, s.clients) for s in stale_batch),
            ]:
                computed.append(await self._store.compute(window, self._clock.now(), clients))
                if progress is not None:
                    progress(computed[-1], len(computed), todo)
            return MetricsRun(
                computed=computed,
                empty=len(empty) - len(filled),
                pending=pending + len(filled),
                pending_by_client=_by_client(left),
            )

    async def _fresh(self, now: datetime, since: datetime | None) -> list[Window]:
        """Due windows never computed, from the first run's start on."""
        size, grace = self._policy.size, self._policy.grace
        start = since or await self._store.oldest_event_at()
        if start is None:
            return []
        if since is None:
            start = max(start, now - self._policy.backfill)
        candidates = due_windows(size.window_of(start), now, grace)
        starts = await self._store.never_computed(size, [w.start for w in candidates])
        return [Window(start=s, size=size) for s in starts]

    async def _stale(self, now: datetime, fresh: set[datetime]) -> list[StaleWindow]:
        """Stale clients' rows of due windows not computed whole in this run anyway."""
        grace = self._policy.grace
        return [
            stale
            for stale in await self._store.stale(self._policy.size)
            if stale.window.is_due(now, grace) and stale.window.start not in fresh
        ]


def _by_client(stale: list[StaleWindow]) -> dict[UUID, int]:
    counts: dict[UUID, int] = {}
    for window in stale:
        for client_id in window.clients:
            counts[client_id] = counts.get(client_id, 0) + 1
    return counts


def _check(command: CalculateMetrics) -> None:
    for field, value in (("now", command.now), ("since", command.since)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(
                "invalid_time",
                f"{field} must carry a UTC offset",
                errors=[FieldError(field=field, message="must carry a UTC offset")],
            )
