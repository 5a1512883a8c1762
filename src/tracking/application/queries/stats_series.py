"""StatsSeries: one tenant's events and unique users per hour or day of a time zone."""

from uuid import UUID

import msgspec

from tracking.application.answer_cache import AnswerCache, CachedAnswer
from tracking.application.pagination import tenant_of
from tracking.application.ports import Clock, StatsReadModel
from tracking.application.principal import Principal
from tracking.application.stats import (
    SeriesPoint,
    StatsSeriesView,
    moment_asked,
    time_zone_of,
)
from tracking.domain.errors import FieldError, InvalidInput, RuleViolation
from tracking.domain.events import action_of
from tracking.domain.periods import Interval, period_end, period_starts, written
from tracking.domain.stats import MAX_POINTS, is_settled

_ENCODE = msgspec.json.Encoder().encode


class StatsSeries(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal
    client_id: UUID | None = None
    since: str
    till: str
    interval: Interval = Interval.DAY
    tz: str = "UTC"
    action: str | None = None


class StatsSeriesHandler:
    """Events and unique users (exact, per period) of each hour or day of the IANA time zone
    `tz` (default UTC) that starts in `[from, till)`, each period whole; `from` and `till`
    are RFC 3339 instants, or dates (that day's first instant in `tz`). Periods without
    events are there with zeros; at most 1000 (`too_many_points` beyond). Each `start`
    carries the zone's offset: a day lasts 23 or 25 hours when the clocks change, the local
    hour repeated when they go back is two points (the same wall time, two offsets) and the
    one skipped when they go forward is none. `action`: only that action's events. A client
    reads its own; an admin another's with `client_id`."""

    def __init__(self, stats: StatsReadModel, answers: AnswerCache, clock: Clock) -> None:
        self._stats = stats
        self._answers = answers
        self._clock = clock

    async def __call__(self, query: StatsSeries) -> CachedAnswer:
        client_id = tenant_of(query.actor, query.client_id, "stats")
        zone = time_zone_of(query.tz)
        since = moment_asked(query.since, "from", zone)
        till = moment_asked(query.till, "till", zone)
        if since >= till:
            raise RuleViolation("invalid_till", "till", "must be later than from")
        action = None if query.action is None else action_of(query.action)
        starts = period_starts(query.interval, zone, since, till, MAX_POINTS)
        if len(starts) > MAX_POINTS:
            message = f"holds more than {MAX_POINTS} {query.interval}s: narrow from and till"
            raise InvalidInput(
                "too_many_points",
                f"the series {message}",
                errors=[FieldError(field="till", message=message)],
            )
        bounds = [*starts, period_end(query.interval, zone, starts[-1])] if starts else [since]
        now = self._clock.now()

        async def compute() -> bytes:
            figures = await self._stats.series(client_id, bounds, action)
            points = [
                SeriesPoint(start=written(s, zone), events=f.events, unique_users=f.unique_users)
                for s, f in zip(starts, figures, strict=True)
            ]
            return _ENCODE(
                StatsSeriesView(
                    time_zone=query.tz, interval=query.interval, action=action, points=points
                )
            )

        question = (query.interval, query.tz, bounds[0].isoformat(), len(starts), action or "")
        return await self._answers.answer(
            client_id,
            ("series", *question),
            (bounds[0], bounds[-1]),
            compute,
            settled=is_settled(bounds[-1], now),
            now=now,
        )
