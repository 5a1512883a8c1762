"""Retention's rules: when an event is past its client's retention, and when a month of
events can go whole."""

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from uuid import UUID

from tracking.domain.errors import RuleViolation


@lru_cache(maxsize=64)  # a batch checks each of its events at the same `now`
def retention_cutoff(days: int | None, now: datetime) -> datetime | None:
    """Events that occurred before this instant are past a retention of `days`; None: none
    are (kept for ever)."""
    return None if days is None else now - timedelta(days=days)


def check_retained(occurred_at: datetime, days: int | None, now: datetime) -> None:
    """An event the next retention run would remove is refused on arrival: storing it would
    break the client's promise to keep nothing older, and a late copy of an erased-by-time
    event must not come back."""
    cutoff = retention_cutoff(days, now)
    if cutoff is not None and occurred_at < cutoff:
        raise RuleViolation(
            "occurred_at_past_retention",
            "occurred_at",
            f"is more than {days} days ago: this client keeps events {days} days",
        )


def expired_whole(
    end: datetime, clients: Collection[UUID], cutoffs: Mapping[UUID, datetime | None]
) -> bool:
    """A month of events (ending at `end`) can go whole when it has events and each client
    with events in it has a retention whose cutoff is at or after the month's end. A client
    not in `cutoffs` (unknown here) keeps its events."""
    return bool(clients) and all(
        (cutoff := cutoffs.get(client)) is not None and cutoff >= end for client in clients
    )
