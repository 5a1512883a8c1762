"""Whether cache reads find an answer, counted the same for every cache adapter."""

from prometheus_client import Counter

from tracking.adapters.prometheus import REGISTRY

LOOKUPS = Counter(
    "tracking_cache_lookups",
    "Cache reads, by whether they found an entry (hit) or not (miss)",
    ["result"],
    registry=REGISTRY,
)
# Bound once: looking a labelled child up costs more than counting.
_HIT = LOOKUPS.labels("hit")
_MISS = LOOKUPS.labels("miss")


def counted(value: bytes | None) -> bytes | None:
    """`value`, a cache read's answer, counted as a hit or a miss."""
    (_MISS if value is None else _HIT).inc()
    return value
