"""Authenticate: turn a credential into the principal every other use case is told about."""

from datetime import datetime, timedelta

import msgspec

from tracking.application.errors import RateLimited, Unauthenticated
from tracking.application.ports import (
    ClientReadModel,
    Clock,
    RateLimiter,
    TokenCodec,
    TokenPurpose,
)
from tracking.application.principal import Principal
from tracking.domain.clients import hash_api_key
from tracking.domain.limits import AUTH_FAILURES, Admission, Charge, Limit, LimitState

_MAX_BLOCKED = 10_000
_ACCESS: TokenPurpose = "access"
_STREAM: TokenPurpose = "stream"


class Authenticate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    api_key: str | None = None
    bearer_token: str | None = None
    stream_token: str | None = None
    """Taken only by the live stream's route, and only when no other credential came."""
    source: str | None = None
    """The address the request came from, when it is known (HTTP)."""


class AuthenticateHandler:
    """Exactly one credential: an API key, or a JWT this service issued. Either way the client
    must exist and be active now, so deactivation takes effect at once.

    Nobody's own limit applies before we know who is asking, so failures are limited per
    source address: past `failures_per_minute`, every request from that address is refused
    until its minute ends, a right key included, or guessing would still tell right from
    wrong. The count is shared (Redis); each process learns of a block at that address's
    next failure it sees, and then refuses without checking the key."""

    def __init__(
        self,
        clients: ClientReadModel,
        tokens: TokenCodec,
        limiter: RateLimiter,
        clock: Clock,
        *,
        failures_per_minute: int | None,
    ) -> None:
        self._clients = clients
        self._tokens = tokens
        self._limiter = limiter
        self._clock = clock
        self._limit = Limit(AUTH_FAILURES, failures_per_minute or 1)
        self._limited = failures_per_minute is not None
        self._blocked: dict[str, datetime] = {}

    async def __call__(self, query: Authenticate) -> Principal:
        source = query.source if self._limited else None
        if source is not None:
            self._refuse_if_blocked(source)
        try:
            return await self._principal(query)
        except Unauthenticated as error:
            if source is None:
                raise
            decision = await self._limiter.acquire([Charge(self._limit, f"addr:{source}", 1)])
            refused = decision.refused_by
            if refused is None:
                raise
            self._block(source, self._clock.now() + timedelta(seconds=refused.reset_seconds))
            raise _too_many(self._limit, decision) from error

    def _refuse_if_blocked(self, source: str) -> None:
        until = self._blocked.get(source)
        if until is None:
            return
        left = (until - self._clock.now()).total_seconds()
        if left <= 0:
            del self._blocked[source]
            return
        state = LimitState(
            self._limit,
            0,
            reset_seconds=max(1, round(left)),
            resets_at=round(until.timestamp()),
            exceeded=True,
        )
        raise _too_many(self._limit, Admission(admitted=False, states=(state,)))

    def _block(self, source: str, until: datetime) -> None:
        if len(self._blocked) >= _MAX_BLOCKED:
            now = self._clock.now()
            self._blocked = {s: u for s, u in self._blocked.items() if u > now}
        self._blocked[source] = until

    async def _principal(self, query: Authenticate) -> Principal:
        if query.api_key is not None and query.bearer_token is not None:
            raise Unauthenticated(
                "ambiguous_credentials", "send either Authorization or X-API-Key, not both"
            )
        if query.api_key is not None:
            principal = await self._clients.principal_for_key(hash_api_key(query.api_key))
            if principal is None:
                raise Unauthenticated("invalid_api_key", "the API key is not valid")
            return principal
        token, purpose = query.bearer_token, _ACCESS
        if token is None:
            token, purpose = query.stream_token, _STREAM
        if token is not None:
            client_id = self._tokens.verify(token, purpose)
            principal = await self._clients.principal_for_token(client_id)
            if principal is None:
                raise Unauthenticated("invalid_token", "the token's client is not active")
            return principal
        raise Unauthenticated(
            "missing_credentials", "send Authorization: Bearer <token> or X-API-Key: <key>"
        )


def _too_many(limit: Limit, decision: Admission) -> RateLimited:
    return RateLimited(
        "too_many_failures",
        f"more than {limit.quota} failed authentications from this address in "
        f"{limit.window_seconds} s: wait before trying again",
        admission=decision,
    )
