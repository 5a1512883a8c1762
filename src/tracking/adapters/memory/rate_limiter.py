"""Rate limits counted in this process: exact for a lone process, and every process's fallback
while Redis is down (then each admits only its share of a limit)."""

import math
import time
from collections.abc import Callable, Sequence

from prometheus_client import Counter

from tracking.adapters.prometheus import REGISTRY
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
        if self._share != 1:
            charges = [self._shared(c) for c in charges]
        counts = self._used
        used = []
        for charge in charges:
            entry = counts.get((charge.limit.name, charge.subject))
            used.append(entry[1] if entry is not None and entry[0] > now else 0)
        admitted, after = decide(charges, used)
        if admitted:
            if len(counts) > _MAX_SUBJECTS:
                self._forget_old(now)
            for charge, count in zip(charges, after, strict=True):
                self._used[charge.limit.name, charge.subject] = (charge.window_ends(now), count)
        return admission(charges, after, admitted=admitted, now=now)

    def _shared(self, charge: Charge) -> Charge:
        if self._share == 1:
            return charge
        quota = math.ceil(charge.limit.quota / self._share)
        return charge._replace(limit=charge.limit._replace(quota=quota))

    def _forget_old(self, now: float) -> None:
        """Counts of windows gone by are worth nothing: drop them, so a flood of subjects
        (source addresses) cannot grow this without bound."""
        self._used = {key: entry for key, entry in self._used.items() if entry[0] > now}
