"""AdmitRequest: a client's request, and the events it brings, against its own limits."""

import functools

import msgspec

from tracking.application.errors import RateLimited
from tracking.application.ports import RateLimiter
from tracking.application.principal import Principal
from tracking.domain.limits import EVENTS, REQUESTS, Admission, Charge, Limit


class AdmitRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`requests`: 1 when the request itself is counted now, 0 when it was already (a batch,
    counted on arrival and then for its events once they are read)."""

    actor: Principal
    requests: int = 1
    events: int = 0


class AdmitRequestHandler:
    """Every authenticated request counts against its client's `rate_limit_per_minute`, and
    every event ingested against its `events_per_minute`. A batch that would go over is
    refused whole, so nothing of it is stored and a retry is safe. The limits come with the
    principal: deciding reads no database."""

    def __init__(self, limiter: RateLimiter, *, enabled: bool = True) -> None:
        self._limiter = limiter
        self._enabled = enabled

    async def __call__(self, command: AdmitRequest) -> Admission | None:
        """None when limits are off."""
        if not self._enabled:
            return None
        actor, subject = command.actor, str(command.actor.client_id)
        charges = [Charge(_limit(REQUESTS, actor.rate_limit_per_minute), subject, command.requests)]
        if command.events:
            charges.append(Charge(_limit(EVENTS, actor.events_per_minute), subject, command.events))
        decision = await self._limiter.acquire(charges)
        refused = decision.refused_by
        if refused is not None:
            raise RateLimited("rate_limited", _why(refused.limit, command), admission=decision)
        return decision


@functools.lru_cache(maxsize=4096)
def _limit(name: str, quota: int) -> Limit:
    return Limit(name, quota)


def _why(limit: Limit, command: AdmitRequest) -> str:
    if limit.name == EVENTS and command.events > limit.quota:
        return (
            f"{command.events} events are more than the quota of {limit.quota} events per "
            f"{limit.window_seconds} s allows at once: send smaller batches"
        )
    return f"over the limit of {limit.quota} {limit.name} per {limit.window_seconds} s"
