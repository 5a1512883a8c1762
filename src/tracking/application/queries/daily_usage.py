"""DailyUsage: a tenant's API requests per calendar day of a time zone."""

from datetime import date, timedelta
from typing import Annotated
from uuid import UUID

import msgspec

from tracking.application.answer_cache import AnswerCache, CachedAnswer
from tracking.application.errors import Forbidden
from tracking.application.ports import Clock, UsageReadModel
from tracking.application.principal import Principal
from tracking.application.usage import DayUsage
from tracking.domain.days import day_of, local_days, today_in, zone_named
from tracking.domain.errors import InvalidInput, RuleViolation
from tracking.domain.stats import is_settled
from tracking.domain.usage import TOP_ROUTES

_ENCODE = msgspec.json.Encoder().encode

MAX_DAYS = 366
DEFAULT_DAYS = 7


class DailyUsage(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal
    client_id: UUID | None = None
    first: str | None = None
    till: str | None = None
    tz: str = "UTC"


class DailyUsageAnswer(msgspec.Struct, frozen=True, kw_only=True):
    client_id: Annotated[UUID | None, msgspec.Meta(description="Null: every client's.")]
    tz: str
    days: list[DayUsage]


class DailyUsageHandler:
    """Requests per day of the IANA time zone `tz` (default UTC), a day being midnight to
    midnight there (23 or 25 hours when the clocks change; `utc_offsets` says so): how many,
    how many answered 4xx and 5xx, the p50 and p95 duration in milliseconds (nearest rank:
    always a measured duration) and the 5 busiest routes, by template. `from` and `till` are
    dates, `till` excluded, at most 366 days apart; by default the last 7 days, today
    included. Every day of the range is listed, a day without requests too. A client reads
    its own requests; an admin those of `client_id`, or of every client without one. What
    is counted are authenticated `/api` requests, kept `TRACKING_REQUEST_LOG_DAYS` days and
    written within about a second. Days that are over are cached until a late write changes
    them; a range with today in it for `TRACKING_ANALYTICS_OPEN_TTL_SECONDS` at most."""

    def __init__(self, usage: UsageReadModel, answers: AnswerCache, clock: Clock) -> None:
        self._usage = usage
        self._answers = answers
        self._clock = clock

    async def __call__(self, query: DailyUsage) -> CachedAnswer:
        client_id = _whose(query.actor, query.client_id)
        now = self._clock.now()
        try:
            zone = zone_named(query.tz)
            first, till = self._range(query, today_in(now, zone))
        except RuleViolation as error:
            raise InvalidInput("invalid_query", error.detail, errors=error.errors) from None
        days = local_days(first, till, zone)
        bounds = [day.start for day in days] + [days[-1].end]

        async def compute() -> bytes:
            figures = await self._usage.periods(client_id, bounds, TOP_ROUTES)
            return _ENCODE(
                DailyUsageAnswer(
                    client_id=client_id,
                    tz=query.tz,
                    days=[
                        DayUsage(
                            date=day.day,
                            start=day.start,
                            end=day.end,
                            hours=day.hours,
                            utc_offsets=day.utc_offsets,
                            requests=f.requests,
                            client_errors=f.client_errors,
                            server_errors=f.server_errors,
                            p50_ms=f.p50_ms,
                            p95_ms=f.p95_ms,
                            top_routes=f.top_routes,
                        )
                        for day, f in zip(days, figures, strict=True)
                    ],
                )
            )

        return await self._answers.answer(
            client_id,
            ("daily", query.tz, first, till),
            (bounds[0], bounds[-1]),
            compute,
            settled=is_settled(bounds[-1], now),
            now=now,
        )

    @staticmethod
    def _range(query: DailyUsage, today: date) -> tuple[date, date]:
        till = day_of(query.till, "till") if query.till is not None else today + timedelta(days=1)
        if query.first is not None:
            first = day_of(query.first, "from")
        else:
            first = till - timedelta(days=DEFAULT_DAYS)
        problem = None
        if first >= till:
            problem = "must be later than from"
        elif (till - first).days > MAX_DAYS:
            problem = f"must be at most {MAX_DAYS} days after from"
        if problem is not None:
            raise RuleViolation("invalid_till", "till", problem)
        return first, till


def _whose(actor: Principal, client_id: UUID | None) -> UUID | None:
    """The caller's own requests; an admin's choice of client, or every client (None)."""
    if actor.is_admin:
        return client_id
    if client_id is not None and client_id != actor.client_id:
        raise Forbidden("forbidden_client", "a client may read only its own usage")
    return actor.client_id
