"""ListMetricWindows: the run log, for operators: what was computed when, what waits."""

import contextlib
from datetime import datetime, timedelta

import msgspec

from tracking.application.errors import Forbidden
from tracking.application.metrics_policy import MetricsPolicy
from tracking.application.pagination import in_calendar
from tracking.application.ports import Clock, MetricsReadModel
from tracking.application.principal import Principal
from tracking.application.views import WindowView
from tracking.domain.errors import FieldError, InvalidInput
from tracking.domain.windows import due_windows

DEFAULT_SPAN = timedelta(days=7)


class ListMetricWindows(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal
    starts_from: datetime | None = None
    starts_till: datetime | None = None


class ListMetricWindowsHandler:
    """Admins only. Windows whose start is in `[from, till)`, by default the last 7 days:
    computed ones with their figures, stale ones, and due ones waiting for their first
    computation (`computed_at` null), from the oldest event's window on."""

    def __init__(self, metrics: MetricsReadModel, policy: MetricsPolicy, clock: Clock) -> None:
        self._metrics = metrics
        self._policy = policy
        self._clock = clock

    async def __call__(self, query: ListMetricWindows) -> list[WindowView]:
        if not query.actor.is_admin:
            raise Forbidden("admin_required", "only an admin may read the metrics run log")
        till = query.starts_till or self._clock.now()
        starts_from = query.starts_from or till
        if query.starts_from is None and till.tzinfo is not None and in_calendar(till):
            with contextlib.suppress(OverflowError):
                starts_from = till - DEFAULT_SPAN
        if (
            starts_from.tzinfo is None
            or till.tzinfo is None
            or not (in_calendar(starts_from) and in_calendar(till))
            or starts_from >= till
        ):
            message = (
                "from and till need a UTC offset and a year from 1 to 9999, and from must "
                "come before till"
            )
            raise InvalidInput(
                "invalid_query", message, errors=[FieldError(field="till", message=message)]
            )
        logged = await self._metrics.list_windows(self._policy.size, starts_from, till)
        waiting = await self._waiting(starts_from, till, {w.start for w in logged})
        return sorted([*logged, *waiting], key=lambda window: window.start)

    async def _waiting(
        self, starts_from: datetime, till: datetime, logged: set[datetime]
    ) -> list[WindowView]:
        """Due windows no run has reached yet: where the next run would start, on."""
        oldest = await self._metrics.oldest_event_at()
        if oldest is None:
            return []
        now, size = self._clock.now(), self._policy.size
        first = size.window_of(max(oldest, now - self._policy.backfill, starts_from))
        return [
            WindowView(start=window.start, end=window.end, stale=False)
            for window in due_windows(first, now, self._policy.grace)
            if window.start < till and window.start not in logged
        ]
