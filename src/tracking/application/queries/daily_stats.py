"""DailyStats: one tenant's events of one calendar day of a time zone."""

from datetime import UTC, timedelta
from uuid import UUID

import msgspec

from tracking.application.answer_cache import AnswerCache, CachedAnswer
from tracking.application.pagination import tenant_of
from tracking.application.ports import Clock, StatsReadModel
from tracking.application.principal import Principal
from tracking.application.stats import DailyStatsView, day_asked, time_zone_of
from tracking.domain.days import first_instant, today_in
from tracking.domain.periods import written
from tracking.domain.stats import TOP, is_settled

_ENCODE = msgspec.json.Encoder().encode
_HOUR = timedelta(hours=1)


class DailyStats(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal
    client_id: UUID | None = None
    date: str | None = None
    tz: str = "UTC"


class DailyStatsHandler:
    """A day of the IANA time zone `tz` (default UTC), from its first instant to the next
    day's (23 or 25 hours when the clocks change; `start` and `end` carry the offsets), by
    the events' `occurred_at`: total events, unique users (exact), the 10 top actions and the
    10 top paths (`metadata.path`, else `metadata.page`, when a string), ties by name. `date`
    defaults to today in `tz`. A client reads its own; an admin another's with `client_id`.
    A settled day's answer is cached until a late event changes it; today's for
    `TRACKING_ANALYTICS_OPEN_TTL_SECONDS` at most."""

    def __init__(self, stats: StatsReadModel, answers: AnswerCache, clock: Clock) -> None:
        self._stats = stats
        self._answers = answers
        self._clock = clock

    async def __call__(self, query: DailyStats) -> CachedAnswer:
        client_id = tenant_of(query.actor, query.client_id, "stats")
        zone = time_zone_of(query.tz)
        now = self._clock.now()
        day = today_in(now, zone) if query.date is None else day_asked(query.date, "date")
        start = first_instant(day, zone).astimezone(UTC)
        end = first_instant(day + timedelta(days=1), zone).astimezone(UTC)

        async def compute() -> bytes:
            figures = await self._stats.day(client_id, start, end, TOP)
            return _ENCODE(
                DailyStatsView(
                    date=day,
                    time_zone=query.tz,
                    start=written(start, zone),
                    end=written(end, zone),
                    hours=(end - start) / _HOUR,
                    total_events=figures.total_events,
                    unique_users=figures.unique_users,
                    top_actions=figures.top_actions,
                    top_paths=figures.top_paths,
                )
            )

        return await self._answers.answer(
            client_id,
            ("daily", query.tz, day),
            (start, end),
            compute,
            settled=is_settled(end, now),
            now=now,
        )
