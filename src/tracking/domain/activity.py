"""User activity: what one user of a client did in one window, the metric the service computes.

This is its one definition. The in-memory adapter computes it with `user_activity`; the
PostgreSQL adapter computes it in SQL, and the contract suite checks the two agree."""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from tracking.domain.events import Event
from tracking.domain.windows import Window

UserKey = tuple[UUID, str]
"""(client_id, user_id): metrics, like events, belong to one tenant."""


@dataclass(frozen=True, slots=True)
class UserActivity:
    event_count: int
    distinct_actions: int
    action_counts: Mapping[str, int]
    first_event_at: datetime
    last_event_at: datetime


def user_activity(window: Window, events: Iterable[Event]) -> dict[UserKey, UserActivity]:
    """For each (client, user) with at least one event in the window: how many events, how
    many distinct actions and how many of each, and the first and last event's time."""
    by_user: dict[UserKey, list[Event]] = {}
    for event in events:
        if window.start <= event.occurred_at < window.end:
            by_user.setdefault((event.client_id, event.user_id), []).append(event)
    activity = {}
    for key, mine in by_user.items():
        actions = Counter(event.action for event in mine)
        activity[key] = UserActivity(
            event_count=len(mine),
            distinct_actions=len(actions),
            action_counts=dict(actions),
            first_event_at=min(event.occurred_at for event in mine),
            last_event_at=max(event.occurred_at for event in mine),
        )
    return activity
