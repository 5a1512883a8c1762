"""ListMetrics: one tenant's per-user window metrics, a page at a time."""

from datetime import datetime
from uuid import UUID

import msgspec

from tracking.application.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    check_listing,
    decode_position,
    encode_position,
    page_of,
    tenant_of,
)
from tracking.application.ports import MetricsReadModel
from tracking.application.principal import Principal
from tracking.application.views import MetricCriteria, UserMetricView
from tracking.domain.windows import WindowSize

_CURSOR_TAG = "metrics"


class ListMetrics(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal
    client_id: UUID | None = None
    user_id: str | None = None
    starts_from: datetime | None = None
    starts_till: datetime | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


class MetricsPage(msgspec.Struct, frozen=True, kw_only=True):
    metrics: list[UserMetricView]
    next_cursor: str | None


class ListMetricsHandler:
    """Metrics of the windows whose start is in `[from, till)`, ordered by window then user.
    A client sees only its own; an admin its own, or another client's with `client_id`."""

    def __init__(self, metrics: MetricsReadModel, size: WindowSize) -> None:
        self._metrics = metrics
        self._size = size

    async def __call__(self, query: ListMetrics) -> MetricsPage:
        client_id = tenant_of(query.actor, query.client_id, "metrics")
        check_listing(
            query.limit, MAX_LIMIT, query.starts_from, query.starts_till, user_id=query.user_id
        )
        after = None if query.cursor is None else decode_position(query.cursor, _CURSOR_TAG)
        rows = await self._metrics.list_metrics(
            MetricCriteria(
                client_id=client_id,
                window_hours=self._size.hours,
                user_id=query.user_id,
                starts_from=query.starts_from,
                starts_till=query.starts_till,
                after=after,
                limit=query.limit + 1,
            )
        )
        metrics, cursor = page_of(
            rows,
            query.limit,
            lambda last: encode_position(_CURSOR_TAG, last.window_start, last.user_id),
        )
        return MetricsPage(metrics=metrics, next_cursor=cursor)
