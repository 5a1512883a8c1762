"""TopClients: which clients sent the most API requests in a time range (admin only)."""

from datetime import datetime, timedelta

import msgspec

from tracking.application.errors import Forbidden
from tracking.application.pagination import check_listing
from tracking.application.ports import Clock, UsageReadModel
from tracking.application.principal import Principal
from tracking.application.usage import ClientUsage

MAX_CLIENTS = 100
DEFAULT_CLIENTS = 3
DEFAULT_RANGE = timedelta(hours=24)


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
    client that sent none is not listed. Admins only."""

    def __init__(self, usage: UsageReadModel, clock: Clock) -> None:
        self._usage = usage
        self._clock = clock

    async def __call__(self, query: TopClients) -> TopClientsAnswer:
        if not query.actor.is_admin:
            raise Forbidden("admin_required", "only an admin may compare clients' usage")
        check_listing(query.limit, MAX_CLIENTS, query.since, query.till)
        till = query.till or (
            self._clock.now() if query.since is None else query.since + DEFAULT_RANGE
        )
        since = query.since or till - DEFAULT_RANGE
        clients = await self._usage.top_clients(since, till, query.limit)
        return TopClientsAnswer(since=since, till=till, clients=clients)
