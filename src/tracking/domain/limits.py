"""Rate limits and quotas: how much of something one caller may do per fixed window.

A window is `[k * w, (k + 1) * w)` seconds of the Unix epoch, the same for every process, so
counting in one shared place (Redis) is exact across processes and replicas. A decision takes
several charges at once and is all or nothing: a batch over its events quota is refused whole,
and then its request is not counted either.

The values are NamedTuples: several are made for every request, and a frozen dataclass costs
several times as much to make."""

import math
from collections.abc import Sequence
from typing import NamedTuple

REQUESTS = "requests"
EVENTS = "events"
AUTH_FAILURES = "auth_failures"


class Limit(NamedTuple):
    """`quota` of something per `window_seconds`; `name` is what the headers call it."""

    name: str
    quota: int
    window_seconds: int = 60


class Charge(NamedTuple):
    """`cost` units of `limit`, counted for `subject` (a client id, or a source address)."""

    limit: Limit
    subject: str
    cost: int

    def window(self, now: float) -> int:
        """The index of the window `now` (Unix seconds) falls in."""
        return math.floor(now / self.limit.window_seconds)

    def window_ends(self, now: float) -> float:
        return float((self.window(now) + 1) * self.limit.window_seconds)


class LimitState(NamedTuple):
    """Where one limit stands after a decision. `exceeded` marks the one that refused it."""

    limit: Limit
    remaining: int
    reset_seconds: int
    resets_at: int
    """Unix seconds when the window ends."""
    exceeded: bool = False


class Admission(NamedTuple):
    admitted: bool
    states: tuple[LimitState, ...]

    @property
    def refused_by(self) -> LimitState | None:
        return next((s for s in self.states if s.exceeded), None)


def decide(charges: Sequence[Charge], used: Sequence[int]) -> tuple[bool, list[int]]:
    """The rule, once: with `used` counted so far in each charge's window, the charges are
    admitted if every one fits its quota; then each is added. Returns (admitted, used after).
    The Redis script is this function in Lua; both are tested against the same suite."""
    admitted = all(u + c.cost <= c.limit.quota for c, u in zip(charges, used, strict=True))
    if not admitted:
        return False, list(used)
    return True, [u + c.cost for c, u in zip(charges, used, strict=True)]


def admission(
    charges: Sequence[Charge], used: Sequence[int], *, admitted: bool, now: float
) -> Admission:
    """The decision as a caller sees it: what is left of each limit, and which one refused.
    `used`: the counts after the decision (unchanged, when refused)."""
    states = []
    for charge, count in zip(charges, used, strict=True):
        limit = charge.limit
        ends = charge.window_ends(now)
        states.append(
            LimitState(
                limit,
                max(0, limit.quota - count),
                max(1, math.ceil(ends - now)),
                round(ends),
                not admitted and count + charge.cost > limit.quota,
            )
        )
    return Admission(admitted, tuple(states))
