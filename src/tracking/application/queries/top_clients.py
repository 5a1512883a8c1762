"""TopClients: which clients sent the most API requests in a time range (admin only)."""

from datetime import datetime, timedelta

import msgspec

from tracking.application.answer_cache import AnswerCache, CachedAnswer
from tracking.application.errors import Forbidden
from tracking.application.pagination import check_listing
from tracking.application.ports import Clock, UsageReadModel
from tracking.application.principal import Principal
from tracking.application.usage import ClientUsage
from tracking.domain.stats import is_settled

MAX_CLIENTS = 100
DEFAULT_CLIENTS = 3
DEFAULT_RANGE = timedelta(hours=24)

_ENCODE = msgspec.json.Encoder().encode


class TopClients(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actor: Principal
    since: datetime | None = None
    till: datetime | None = None
    limit: int = DEFAULT_CLIENTS


class TopClientsAnswer(msgspec.Struct, frozen=True, kw_only=True):
    since: datetime = msgspec.field(name="from")
    till: datetime
    clients: list[ClientUsage]


class TopClientsHandler:
    """The clients with the most authenticated `/api` requests in `[from, till)`, most first
    (ties by client id), with their names. By default the last 24 hours (`from` alone: the
    24 hours from it; `till` alone: the 24 before it) and the top 3 (`limit` up to 100). A
    client that sent none is not listed. Admins only. A range that is over is cached until a
    late write changes it; one still open (the default) for
    `TRACKING_ANALYTICS_OPEN_TTL_SECONDS` at most, its `from` and `till` those it was
    computed for."""

    def __init__(self, usage: UsageReadModel, answers: AnswerCache, clock: Clock) -> None:
        self._usage = usage
        self._answers = answers
        self._clock = clock

    async def __call__(self, query: TopClients) -> CachedAnswer:
        if not query.actor.is_admin:
            raise Forbidden("admin_required", "only an admin may compare clients' usage")
        check_listing(query.limit, MAX_CLIENTS, query.since, query.till)
        now = self._clock.now()
        till = query.till or (now if query.since is None else query.since + DEFAULT_RANGE)
        since = query.since or till - DEFAULT_RANGE

        async def compute() -> bytes:
            clients = await self._usage.top_clients(since, till, query.limit)
            return _ENCODE(TopClientsAnswer(since=since, till=till, clients=clients))

        # Keyed by the question as asked: "the last 24 hours" is one question while it is
        # kept, not a new one every microsecond.
        asked = (query.since or "-", query.till or "-", query.limit)
        return await self._answers.answer(
            None,
            ("top", *asked),
            (since, till),
            compute,
            settled=is_settled(till, now),
            now=now,
        )
