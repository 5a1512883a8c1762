"""ListMetricWindows: the run log, for operators: what was computed when, what waits."""

from datetime import datetime, timedelta

import msgspec

from tracking.application.errors import FieldError, Forbidden, InvalidInput
from tracking.application.ports import Clock, MetricsReadModel
from tracking.application.principal import Principal
from tracking.application.views import WindowView
from tracking.domain.windows import WindowSize

DEFAULT_SPAN = timedelta(days=7)


class ListMetricWindows(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal
    starts_from: datetime | None = None
    starts_till: datetime | None = None


class ListMetricWindowsHandler:
    """Admins only. Windows whose start is in `[from, till)`, by default the last 7 days:
    computed ones with their figures, stale ones, and due ones never computed."""

    def __init__(self, metrics: MetricsReadModel, size: WindowSize, clock: Clock) -> None:
        self._metrics = metrics
        self._size = size
        self._clock = clock

    async def __call__(self, query: ListMetricWindows) -> list[WindowView]:
        if not query.actor.is_admin:
            raise Forbidden("admin_required", "only an admin may read the metrics run log")
        till = query.starts_till or self._clock.now()
        starts_from = query.starts_from or till - DEFAULT_SPAN
        if starts_from.tzinfo is None or till.tzinfo is None or starts_from >= till:
            message = "from and till need a UTC offset, and from must come before till"
            raise InvalidInput(
                "invalid_query", message, errors=[FieldError(field="till", message=message)]
            )
        return await self._metrics.list_windows(self._size, starts_from, till)
