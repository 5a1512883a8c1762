"""Rate limits on the wire: who a request comes from, and the headers that tell a client where
it stands (draft-ietf-httpapi-ratelimit-headers, and the X-RateLimit-* fields of older APIs)."""

import functools
import ipaddress
from collections.abc import Sequence

from litestar.types import Scope

from tracking.domain.limits import REQUESTS, Admission, Limit, LimitState

Networks = Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]
_STATE_KEY = "tracking.admission"


def source_address(scope: Scope, trusted: Networks) -> str | None:
    """The peer's address; behind proxies we trust, the nearest address in X-Forwarded-For
    that is not one of them. Anyone can send that header, so it is read only from a trusted
    peer, and only as far back as the chain of trusted proxies goes."""
    peer = scope.get("client")
    if peer is None:
        return None
    address: str = peer[0]
    if not trusted or not _is_trusted(address, trusted):
        return address
    hops = [
        hop.strip()
        for name, value in scope["headers"]
        if name == b"x-forwarded-for"
        for hop in value.decode("latin-1").split(",")
    ]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop if _is_address(hop) else address
        address = hop
    return address


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_trusted(address: str, trusted: Networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def remember(scope: Scope, admission: Admission) -> None:
    """The request's latest decision, for the headers of whatever answer it gets."""
    scope["state"][_STATE_KEY] = admission


def remembered_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    """Where the client stands, for every answer a limit governed (none otherwise)."""
    admission: Admission | None = scope["state"].get(_STATE_KEY)
    return [] if admission is None else rate_limit_headers(admission)


def rate_limit_headers(admission: Admission) -> list[tuple[bytes, bytes]]:
    states = admission.states
    shown = admission.refused_by or _first(states, REQUESTS) or states[0]
    now = ", ".join(f'"{s.limit.name}";r={s.remaining};t={s.reset_seconds}' for s in states)
    headers = [
        (b"ratelimit-policy", _policy(tuple(s.limit for s in states))),
        (b"ratelimit", now.encode()),
        (b"x-ratelimit-limit", str(shown.limit.quota).encode()),
        (b"x-ratelimit-remaining", str(shown.remaining).encode()),
        (b"x-ratelimit-reset", str(shown.resets_at).encode()),
    ]
    if not admission.admitted:
        headers.append((b"retry-after", str(shown.reset_seconds).encode()))
    return headers


@functools.lru_cache(maxsize=4096)
def _policy(limits: tuple[Limit, ...]) -> bytes:
    """The same for every request of a client until its limits change."""
    return ", ".join(f'"{x.name}";q={x.quota};w={x.window_seconds}' for x in limits).encode()


def _first(states: Sequence[LimitState], name: str) -> LimitState | None:
    return next((s for s in states if s.limit.name == name), None)
