"""Rate limits counted in this process: exact for a lone process, and every process's fallback
while Redis is down (then each admits only its share of a limit)."""

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from prometheus_client import Counter

from tracking.adapters.outages import REGISTRY
from tracking.application.ports import RateLimiter
from tracking.domain.limits import Admission, Charge, admission, decide

_MAX_SUBJECTS = 100_000

DECISIONS = Counter(
    "tracking_rate_limit_decisions",
    "Rate-limit decisions, by where they were counted (redis: shared and exact; local: this "
    "process only) and outcome",
    ["mode", "outcome"],
    registry=REGISTRY,
)


# Bound once: looking a labelled child up costs more than counting, on every request.
_COUNTERS = {
    (mode, admitted): DECISIONS.labels(mode, "admitted" if admitted else "refused")
    for mode in ("redis", "local")
    for admitted in (True, False)
}


def counted(mode: str, decision: Admission) -> Admission:
    _COUNTERS[mode, decision.admitted].inc()
    return decision


class InMemoryRateLimiter(RateLimiter):
    """`share`: how many processes split each limit (each admits ceil(quota / share))."""

    def __init__(self, *, share: int = 1, now: Callable[[], float] = time.time) -> None:
        self._share = share
        self._now = now
        self._used: dict[tuple[str, str], tuple[float, int]] = {}
        """(limit, subject) -> (when its window ends, count in it)."""

    async def acquire(self, charges: Sequence[Charge]) -> Admission:
        return counted("local", self.decide(charges))

    def decide(self, charges: Sequence[Charge]) -> Admission:
        now = self._now()
        charges = [self._shared(c) for c in charges]
        keys = [(c.limit.name, c.subject) for c in charges]
        used = [self._count(key, now) for key in keys]
        admitted, after = decide(charges, used)
        if admitted:
            if len(self._used) > _MAX_SUBJECTS:
                self._forget_old(now)
            for key, charge, count in zip(keys, charges, after, strict=True):
                self._used[key] = (charge.window_ends(now), count)
        return admission(charges, after, admitted=admitted, now=now)

    def _shared(self, charge: Charge) -> Charge:
        if self._share == 1:
            return charge
        quota = math.ceil(charge.limit.quota / self._share)
        return replace(charge, limit=replace(charge.limit, quota=quota))

    def _count(self, key: tuple[str, str], now: float) -> int:
        ends, count = self._used.get(key, (now, 0))
        return count if ends > now else 0

    def _forget_old(self, now: float) -> None:
        """Counts of windows gone by are worth nothing: drop them, so a flood of subjects
        (source addresses) cannot grow this without bound."""
        self._used = {key: entry for key, entry in self._used.items() if entry[0] > now}
