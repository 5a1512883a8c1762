"""CalculateMetrics: compute every due window that was never computed or went stale."""

from collections.abc import Callable
from datetime import datetime

import msgspec

from tracking.application.errors import Forbidden
from tracking.application.metrics_policy import MetricsPolicy
from tracking.application.ports import Clock, ComputedWindow, MetricsStore
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
    """Windows with events, computed one by one."""
    planned: list[Window] = msgspec.field(default_factory=list)
    empty: int = 0
    """Windows without a single event, recorded (or, in a dry run, to record) all at once."""
    pending: int = 0


Progress = Callable[[ComputedWindow, int, int], None]


class CalculateMetricsHandler:
    """Windows are fixed by the clock, never by the trigger's timing: a run computes, oldest
    first, every due window (closed for longer than the grace period) that was never computed
    or was marked stale by a late event, at most `max_windows` of those that hold events;
    `pending` says how many are left. Due windows without a single event are recorded all at
    once, however many (a backfill over a quiet month finishes in one run). The first run
    starts at the oldest event's window, at most `backfill` ago unless `since` says
    otherwise. Only one run at a time: another gets `already_running`."""

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
            todo = await self._todo(now, command.since)
            starts = [window.start for window in todo]
            occupied = await self._store.occupied(self._policy.size, starts) if todo else set()
            busy = [window for window in todo if window.start in occupied]
            empty = [window for window in todo if window.start not in occupied]
            batch = busy[: self._policy.max_windows]
            pending = len(busy) - len(batch)
            if command.dry_run:
                return MetricsRun(planned=batch, empty=len(empty), pending=pending)
            filled = await self._store.record_empty(empty, self._clock.now()) if empty else []
            computed = []
            for window in batch:
                computed.append(await self._store.compute(window, self._clock.now()))
                if progress is not None:
                    progress(computed[-1], len(computed), len(batch))
            return MetricsRun(
                computed=computed, empty=len(empty) - len(filled), pending=pending + len(filled)
            )

    async def _todo(self, now: datetime, since: datetime | None) -> list[Window]:
        size, grace = self._policy.size, self._policy.grace
        start = since or await self._store.oldest_event_at()
        if start is None:
            return []
        if since is None:
            start = max(start, now - self._policy.backfill)
        candidates = due_windows(size.window_of(start), now, grace)
        starts = await self._store.unsettled(size, [w.start for w in candidates])
        windows = [Window(start=s, size=size) for s in starts]
        return [w for w in windows if w.is_due(now, grace)]


def _check(command: CalculateMetrics) -> None:
    for field, value in (("now", command.now), ("since", command.since)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(
                "invalid_time",
                f"{field} must carry a UTC offset",
                errors=[FieldError(field=field, message="must carry a UTC offset")],
            )
