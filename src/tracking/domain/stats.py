"""Product statistics, defined once: an event's path, how the top lists rank, and when an
answer about a period is settled. The in-memory read model computes the figures with these
functions; PostgreSQL's statements are tested against them on random events."""

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import TypeVar

Owner = TypeVar("Owner")

TOP = 10
"""A day's top actions and top paths: the 10 with the most events."""
MAX_POINTS = 1000
"""The most periods one series answers."""
SETTLE_MARGIN = timedelta(seconds=5)
"""How far apart two processes' clocks may be (NTP keeps them within milliseconds)."""

_PATH_KEYS = ("path", "page")


def path_of(metadata: object) -> str | None:
    """`metadata.path` when it is a string, else `metadata.page` when that is one, else none:
    a number, an object, a list, null or no such field is no path (the event still counts
    in the totals). An empty string is a path, as the sender wrote it."""
    if not isinstance(metadata, Mapping):
        return None
    for key in _PATH_KEYS:
        value = metadata.get(key)
        if isinstance(value, str):
            return value
    return None


def ranked(counts: Mapping[str, int], top: int = TOP) -> list[tuple[str, int]]:
    """The `top` names with the most events, most first; ties by name in code-point order
    (what PostgreSQL's `COLLATE "C"` gives for UTF-8 text), so an answer never wobbles."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]


def late_before(now: datetime) -> datetime:
    """An event stored at `now` is late, for the answers kept about past periods, when it
    happened before this: the start of the current UTC hour."""
    return now.replace(minute=0, second=0, microsecond=0)


def is_settled(end: datetime, now: datetime) -> bool:
    """An answer about a period ending at `end`, computed at `now`, can change only by a
    late event (which invalidates it): the period ended before the current UTC hour began,
    by another process's clock too. A period ending within the current hour (yesterday of
    a zone whose day ends at :30) is settled once the hour is over."""
    return end <= late_before(now - SETTLE_MARGIN)


def late_days(occurred: Iterable[tuple[Owner, datetime]], now: datetime) -> set[tuple[Owner, date]]:
    """The (owner, UTC day) of each late row (an event, a logged request) among those stored
    at `now`, instants in UTC: the days whose answers they may change. Rows of the current
    hour touch no settled answer, so live ingest gives none."""
    horizon = late_before(now)
    return {(owner, at.date()) for owner, at in occurred if at < horizon}
